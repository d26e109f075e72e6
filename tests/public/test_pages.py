from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.models import Metric, Observation
from releases.models import Release, TrustResult
from tests.factories import computed_release
from tests.public.conftest import correct, publish, withdraw
from trusts.models import ContextMeasure

pytestmark = pytest.mark.django_db


def table_url(release: Release, **query: str) -> str:
    url = release.get_absolute_url()
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def codes_in_order(response) -> list[str]:
    return [row.trust.ods_code for row in response.context["rows"]]


def test_home_shows_the_latest_table_of_each_peer_group(client, published):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mental health and community" in body or published.peer_group.name in body
    assert published.get_absolute_url() in body
    assert "What the segments mean" in body
    assert 'class="nhsuk-header"' in body


def test_home_says_so_when_nothing_is_published(client, draft):
    response = client.get("/")
    assert response.status_code == 200
    assert "No league table has been published yet" in response.content.decode()


def test_league_table_lists_every_trust_with_likely_ranges(client, published):
    response = client.get(table_url(published))
    assert response.status_code == 200
    body = response.content.decode()
    rows = list(TrustResult.objects.filter(release=published).select_related("trust"))
    for row in rows:
        assert row.trust.name in body
        assert f"likely {row.rank_low} to {row.rank_high}" in body
        assert f"likely {row.average_low} to {row.average_high}" in body
    assert body.count('class="lt-interval"') == 2 * len(rows)
    assert codes_in_order(response) == [
        r.trust.ods_code for r in sorted(rows, key=lambda r: (r.rank, r.trust.name))
    ]


def test_league_table_filters_by_region_subtype_segment_and_search(client, published):
    rows = list(TrustResult.objects.filter(release=published).select_related("trust__region"))
    region = rows[0].trust.region
    response = client.get(table_url(published, region=region.slug))
    assert set(codes_in_order(response)) == {
        r.trust.ods_code for r in rows if r.trust.region_id == region.pk
    }
    response = client.get(table_url(published, subtype="Community"))
    assert set(codes_in_order(response)) == {
        r.trust.ods_code for r in rows if r.trust.subtype == "Community"
    }
    segment = rows[0].segment
    response = client.get(table_url(published, segment=str(segment)))
    assert set(codes_in_order(response)) == {r.trust.ods_code for r in rows if r.segment == segment}
    response = client.get(table_url(published, q=rows[1].trust.ods_code.lower()))
    assert codes_in_order(response) == [rows[1].trust.ods_code]


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("-rank", lambda r: r.rank, True),
        ("name", lambda r: r.trust.name, False),
        ("-average", lambda r: r.average_score, True),
        ("code", lambda r: r.trust.ods_code, False),
    ],
)
def test_league_table_sorts_by_any_column(client, published, sort, key, reverse):
    rows = list(TrustResult.objects.filter(release=published).select_related("trust"))
    response = client.get(table_url(published, sort=sort))
    shown = [key(r) for r in response.context["rows"]]
    assert shown == sorted((key(r) for r in rows), reverse=reverse)
    if sort.lstrip("-") != "code":  # the code is shown with the name, not in a column
        assert 'aria-sort="' in response.content.decode()


def test_league_table_shows_the_error_of_an_unknown_region(client, published):
    response = client.get(table_url(published, region="atlantis"))
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_unknown_peer_group_or_quarter_is_404(client, published):
    assert client.get("/league-tables/mental-health-community/2025-26-q9/").status_code == 404
    assert client.get("/league-tables/mental-health-community/2025-27-q4/").status_code == 404
    assert client.get("/league-tables/nowhere/2025-26-q4/").status_code == 404


def test_movement_compares_with_the_previous_published_quarter_only(client, published):
    # Q3 computed after Q4 and left in draft: its ranks must not show as movement.
    q3 = computed_release(trust_count=8, quarter_number=3, replicates=20)
    response = client.get(table_url(published))
    assert all(row.movement is None for row in response.context["rows"])
    publish(q3)
    response = client.get(table_url(published))
    ranks = dict(TrustResult.objects.filter(release=q3).values_list("trust_id", "rank"))
    for row in response.context["rows"]:
        assert row.movement == ranks[row.trust_id] - row.rank


def test_trust_page_shows_metrics_against_peers_and_what_patients_say(client, published):
    row = TrustResult.objects.filter(release=published).select_related("trust").first()
    ContextMeasure.objects.create(
        trust=row.trust, year="2024/25", key="sites", label="Number of sites", value=12
    )
    response = client.get(row.trust.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert row.trust.name in body
    assert f"likely {row.rank_low} to {row.rank_high}" in body
    assert "What patients say" in body
    assert "CQC community mental health survey" in body
    assert "Peer median" in body
    assert "Number of sites" in body
    assert "Published results by quarter" in body
    page = response.context["page"]
    assert {block.domain.slug for block in page.domains} >= {"access-to-services"}


def test_trust_page_says_what_would_move_it_up_a_segment(client, published):
    row = (
        TrustResult.objects.filter(
            release=published, segment__gt=1, segment__lt=5, in_financial_deficit=False
        )
        .select_related("trust")
        .first()
    )
    response = client.get(row.trust.get_absolute_url())
    step = response.context["page"].step
    assert step.target_segment == row.segment - 1
    thresholds = [published.t1, published.t2, published.t3]
    assert float(step.needed_average) == pytest.approx(float(thresholds[row.segment - 2]), abs=1e-3)
    assert "What would move this trust up a segment" in response.content.decode()


def test_trust_page_of_a_trust_without_a_published_table(client, draft):
    trust = TrustResult.objects.filter(release=draft).first().trust
    response = client.get(trust.get_absolute_url())
    assert response.status_code == 200
    assert "No published league table includes this trust yet" in response.content.decode()


def test_unknown_trust_is_404(client, db):
    assert client.get("/trusts/NOPE1/").status_code == 404


def test_synthetic_values_are_marked(client, draft):
    row = TrustResult.objects.filter(release=draft).select_related("trust").first()
    Observation.objects.filter(
        trust=row.trust, quarter=draft.quarter, metric__code="OF0084"
    ).update(is_synthetic=True)
    publish(draft)
    body = client.get(row.trust.get_absolute_url()).content.decode()
    # Marked once in the metric tables; "learning from peers" marks it too if it lists it.
    every_metric = body[body.index("<h2>Every metric</h2>") :]
    assert every_metric.count(">Synthetic</strong>") == 1
    if "learning-from-peers" in body:
        lessons = body[body.index('id="learning-from-peers"') : body.index("Segment and rank")]
        assert lessons.count(">Synthetic</strong>") == lessons.count("(OF0084)")
    assert "Contains synthetic values" in client.get(table_url(draft)).content.decode()
    compare = client.get(f"/compare/?trusts={row.trust.ods_code}").content.decode()
    # The synthetic value, and the table row whose average counts it.
    assert compare.count(">Synthetic</strong>") == 2


def test_a_synthetic_metric_without_observations_is_marked(client, published):
    Metric.objects.filter(code="OF0084").update(is_synthetic=True)
    assert "Contains synthetic values" in client.get(table_url(published)).content.decode()


def test_compare_shows_up_to_four_trusts(client, published):
    codes = list(
        TrustResult.objects.filter(release=published)
        .order_by("trust__ods_code")
        .values_list("trust__ods_code", flat=True)
    )
    response = client.get(f"/compare/?trusts={','.join(codes[:6])},ZZZ99")
    assert response.status_code == 200
    assert len(response.context["comparison"].trusts) == 4
    assert response.context["dropped"] == codes[4:6]
    body = response.content.decode()
    assert "Only 4 trusts can be compared at once" in body
    assert f"left out: {codes[4]}, {codes[5]}." in body
    assert "No trust has the code ZZZ99" in body
    assert client.get("/compare/").status_code == 200


def test_compare_skips_unknown_and_repeated_codes_before_taking_four(client, published):
    codes = list(
        TrustResult.objects.filter(release=published)
        .order_by("trust__ods_code")
        .values_list("trust__ods_code", flat=True)
    )
    asked = ["XXX", codes[0], "YYY", codes[0].lower(), "ZZZ", *codes[1:5]]
    response = client.get(f"/compare/?trusts={','.join(asked)}")
    compared = [c.trust.ods_code for c in response.context["comparison"].trusts]
    assert compared == codes[:4]
    assert response.context["dropped"] == [codes[4]]
    body = response.content.decode()
    assert "No trust has the codes XXX, YYY, ZZZ" in body
    # Nothing but unknown codes: none compared, and none said to be left out.
    nothing = client.get("/compare/?trusts=" + ",".join(f"R{n:02}" for n in range(1, 61)))
    assert nothing.context["comparison"].trusts == []
    assert nothing.context["dropped"] == []
    assert "Only 4 trusts" not in nothing.content.decode()


def test_compare_reads_every_repeated_trusts_parameter(client, published):
    first, second = (
        TrustResult.objects.filter(release=published)
        .order_by("trust__ods_code")
        .values_list("trust__ods_code", flat=True)[:2]
    )
    response = client.get(f"/compare/?trusts={first}&trusts={second}")
    assert [c.trust.ods_code for c in response.context["comparison"].trusts] == [first, second]


def test_methodology_is_generated_from_the_framework(client, published):
    response = client.get("/methodology/")
    assert response.status_code == 200
    body = response.content.decode()
    assert published.framework.name in body
    for definition in published.framework.definitions.select_related("metric"):
        assert definition.metric.code in body
    assert f"{published.t1.normalize()}" in body
    assert "at least −1 → 2" in body  # the planned surplus bands, from the definition's params
    assert "segment 3" in body


def test_releases_page_and_feed_list_corrections_and_withdrawals(client, published):
    correction = correct(published, "A wrongly loaded metric was fixed.")
    response = client.get("/releases/")
    body = response.content.decode()
    assert "A wrongly loaded metric was fixed." in body
    assert "Superseded" in body
    feed = client.get("/releases/feed.atom")
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert b"Corrected: " in feed.content
    withdraw(correction, "Withdrawn pending a data review.")
    feed = client.get("/releases/feed.atom")
    assert b"Withdrawn: " in feed.content
    assert b"Withdrawn pending a data review." in feed.content


def test_a_superseded_revision_stays_readable_at_its_revision_url(client, published):
    correction = correct(published, "Fixed.")
    old_url = reverse(
        "public:league-table-revision",
        kwargs={"peer_group": "mental-health-community", "quarter": "2025-26-q4", "revision": 1},
    )
    response = client.get(old_url)
    assert response.status_code == 200
    assert "This is an old revision" in response.content.decode()
    current = client.get(table_url(correction))
    assert current.context["release"] == correction


def test_a_withdrawn_table_shows_only_its_notice(client, published):
    withdraw(published, "Data supplier error.")
    response = client.get(table_url(published))
    assert response.status_code == 410
    body = response.content.decode()
    assert "Data supplier error." in body
    assert "rows" not in response.context


def test_a_stored_page_costs_one_query_the_publication_generation(
    client, published, django_assert_num_queries, monkeypatch
):
    from public import caching

    client.get(table_url(published))
    reads = []
    real_generation = caching.generation

    def counted() -> str:
        reads.append(1)
        return real_generation()

    monkeypatch.setattr(caching, "generation", counted)
    # The generation is read on the driver's own cursor, so Django logs no query at all.
    with django_assert_num_queries(0):
        response = client.get(table_url(published))
    assert response.status_code == 200
    assert len(reads) == 1
    assert response["Cache-Control"] == "public, max-age=5, must-revalidate"
    assert response["ETag"]


def test_a_publication_by_any_path_shows_at_once_without_any_signal(client, published):
    assert "Q3 2025/26" not in client.get("/releases/").content.decode()  # now stored
    later = computed_release(trust_count=8, quarter_number=3, replicates=20)
    # A bare status update: no lifecycle service, no signal, no cache operation.
    Release.objects.filter(pk=later.pk).update(
        status=Release.Status.PUBLISHED, published_at=timezone.now() - timedelta(minutes=1)
    )
    assert "Q3 2025/26" in client.get("/releases/").content.decode()


def test_a_repeated_request_with_the_etag_is_not_modified(client, published):
    response = client.get(table_url(published))
    etag = response["ETag"]
    again = client.get(table_url(published), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_sitemap_lists_published_pages(client, published):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert published.get_absolute_url().encode() in response.content


def test_trust_index_lists_trusts_in_published_tables(client, published):
    row = TrustResult.objects.filter(release=published).select_related("trust").first()
    body = client.get("/trusts/").content.decode()
    assert row.trust.name in body


def test_trust_page_shows_public_support_and_freedoms(client, published, monkeypatch):
    from interventions import selectors as interventions_selectors
    from interventions.selectors import PublicFreedom, PublicSupport

    row = TrustResult.objects.filter(release=published).select_related("trust").first()

    def public_support_for(trust_ids, today=None):
        return {
            trust_id: PublicSupport(
                trust_id=trust_id,
                support_level="targeted",
                support_level_label="Targeted support",
                freedoms=[PublicFreedom("Reduced reporting frequency", "reduced-reporting", None)],
            )
            for trust_id in trust_ids
        }

    monkeypatch.setattr(interventions_selectors, "public_support_for", public_support_for)
    body = client.get(row.trust.get_absolute_url()).content.decode()
    assert "Targeted support" in body
    assert "Reduced reporting frequency" in body


def test_league_table_reads_yes_or_no_filters_and_names_one_it_cannot_read(client, draft):
    rows = TrustResult.objects.filter(release=draft)
    TrustResult.objects.filter(pk__in=list(rows.values_list("pk", flat=True))[:2]).update(
        in_financial_deficit=True
    )
    published = publish(draft)
    in_deficit = rows.filter(in_financial_deficit=True).count()
    assert len(client.get(table_url(published, deficit="1")).context["rows"]) == in_deficit
    refused = client.get(table_url(published, segment_uncertain="maybe"))
    assert refused.context["form_errors"]["segment_uncertain"]
    assert "Segment uncertain: &#x27;maybe&#x27; is not true or false" in refused.content.decode()


def test_every_rank_and_average_shown_comes_with_its_likely_range(client, published):
    rows = list(TrustResult.objects.filter(release=published).exclude(rank=None))
    home = client.get("/").content.decode()
    domains = client.get(published.get_absolute_url() + "domains/").content.decode()
    for row in rows:
        assert f"(likely {row.rank_low} to {row.rank_high})" in home
        assert f"(likely {row.average_low} to {row.average_high})" in home
        assert f"rank {row.rank} (likely {row.rank_low} to {row.rank_high})" in domains
    # Where no range is estimated, the page says so and why.
    assert "Domain scores have no likely range" in domains
    assert "Domain and metric scores have none" in home
