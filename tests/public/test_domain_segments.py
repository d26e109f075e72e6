"""Domain segments on the public site: beside each domain score on the trust page (with the
thresholds drawn), the domain view of a league table, the API, the downloads, /methodology/."""

import csv
import io
import json

import pytest
from django.urls import reverse

from releases.engine.data_file import DATA_FILE_COLUMNS
from releases.models import Release, TrustResult
from tests.public.conftest import correct, withdraw

pytestmark = pytest.mark.django_db


def domains_url(release: Release) -> str:
    return reverse(
        "public:league-table-domains",
        kwargs={"peer_group": release.peer_group.slug, "quarter": release.quarter.slug},
    )


def fix_access_thresholds(release: Release) -> Release:
    """Give the published release fixed access thresholds, as a regulator would have."""
    thresholds = dict(release.domain_thresholds)
    thresholds["access-to-services"] = {"method": "fixed", "t1": "1.85", "t2": "2.4", "t3": "3.1"}
    Release.objects.filter(pk=release.pk).update(domain_thresholds=thresholds)
    release.refresh_from_db()
    return release


def test_the_trust_page_shows_each_domain_segment_with_its_thresholds(client, published):
    fix_access_thresholds(published)
    row = (
        TrustResult.objects.filter(release=published)
        .exclude(domain_segments={})
        .select_related("trust")
        .first()
    )

    response = client.get(row.trust.get_absolute_url())

    body = response.content.decode()
    blocks = {block.domain.slug: block for block in response.context["page"].domains}
    access = blocks["access-to-services"]
    assert access.segment == row.domain_segments["access-to-services"]
    assert "Segment 1 up to 1.85, 2 up to 2.4, 3 up to 3.1, 4 above (set by the regulator)" in body
    safety = blocks["patient-safety"]
    assert safety.thresholds.method_label == "quartiles of the peer group's domain scores"
    assert "(quartiles of the peer group&#x27;s domain scores)" in body
    # The drawing: four bands, the three thresholds and the trust's score.
    assert body.count('class="lt-scale"') == len(blocks)
    assert access.scale.ticks == [28.33, 46.67, 70.0]
    assert access.scale.point == pytest.approx((access.score - 1) / 3 * 100, abs=0.01)
    assert f'href="{domains_url(published)}"' in body


def test_the_domain_view_lists_every_trust_by_domain(client, published):
    response = client.get(domains_url(published))

    assert response.status_code == 200
    grid = response.context["grid"]
    results = TrustResult.objects.filter(release=published)
    assert len(grid.rows) == results.count()
    assert [row.result.rank for row in grid.rows] == sorted(r.rank for r in results)
    assert [column.domain.slug for column in grid.columns][:2] == [
        "access-to-services",
        "effectiveness-and-experience",
    ]
    for row in grid.rows:
        for cell in row.cells:
            assert cell.segment == row.result.domain_segments.get(cell.thresholds.domain.slug)
    body = response.content.decode()
    assert 'role="rowheader"' in body and 'role="columnheader"' in body
    assert "nhsuk-table--responsive" in body
    assert "trust-data.csv" in body


def test_the_domain_view_of_an_old_revision_and_of_a_withdrawn_table(client, published):
    corrected = correct(published, "Corrected a value")
    old = reverse(
        "public:league-table-domains-revision",
        kwargs={
            "peer_group": published.peer_group.slug,
            "quarter": published.quarter.slug,
            "revision": 1,
        },
    )
    response = client.get(old)
    assert response.status_code == 200
    assert "superseded by a correction" in response.content.decode()

    withdraw(corrected, "Wrong file")
    assert client.get(domains_url(published)).status_code == 410
    missing = reverse(
        "public:league-table-domains",
        kwargs={"peer_group": "no-such-group", "quarter": published.quarter.slug},
    )
    assert client.get(missing).status_code == 404


def test_the_api_gives_domain_segments_and_thresholds(client, published):
    fix_access_thresholds(published)
    release = client.get(reverse("api:release-detail", args=[published.pk])).json()
    assert release["domain_thresholds"]["access-to-services"] == {
        "method": "fixed",
        "t1": 1.85,
        "t2": 2.4,
        "t3": 3.1,
    }
    assert release["domain_thresholds"]["patient-safety"]["method"] == "quartiles"

    rows = client.get(release["rows_url"]).json()
    rows = rows.get("results", rows)
    stored = {
        r.trust.ods_code: r.domain_segments
        for r in TrustResult.objects.filter(release=published).select_related("trust")
    }
    assert {row["trust"]: row["domain_segments"] for row in rows} == stored


def test_the_downloads_carry_domain_segments(client, published):
    base = published.get_absolute_url()
    document = json.loads(client.get(base + "league-table.json").content)
    stored = {
        r.trust.ods_code: r.domain_segments
        for r in TrustResult.objects.filter(release=published).select_related("trust")
    }
    assert {r["Trust_code"]: r["Domain_segments"] for r in document["league_table"]} == stored

    response = client.get(base + "trust-data.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="mental-health-community-2025-26-q4-trust-data.csv"'
        in (response["Content-Disposition"])
    )
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff" + ",".join(DATA_FILE_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    segments = {(r["Trust_code"], r["Metric_ID"]): r["Value"] for r in rows}
    for code, by_domain in stored.items():
        if "access-to-services" in by_domain:
            assert segments[code, "OF4100"] == f"{by_domain['access-to-services']}.0"


def test_methodology_shows_the_domain_thresholds_of_published_tables_only(client, published, draft):
    fix_access_thresholds(published)

    body = client.get(reverse("public:methodology")).content.decode()

    assert "Domain segment thresholds of each published table" in body
    assert "1.85 / 2.4 / 3.1" in body
    assert "set by the regulator" in body
