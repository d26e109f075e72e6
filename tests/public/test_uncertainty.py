"""A segment is labelled uncertain when the likely range of the average crosses a threshold:
on the league table (with a filter), the trust page, the downloads and the API."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from public.uncertainty import possible_segments
from releases.models import Release, TrustResult
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db


def set_row(release: Release, trust: str, **fields: object) -> TrustResult:
    TrustResult.objects.filter(release=release, trust__ods_code=trust).update(**fields)
    return TrustResult.objects.select_related("trust").get(release=release, trust__ods_code=trust)


@pytest.fixture
def table(draft: Release) -> Release:
    """Thresholds 2.065 / 2.30 / 2.585 (NHS England's MH&C Q4 2025/26); three trusts set up:

    T001 segment 4 at 2.60, likely 1.91 to 3.23 (RGD's case in the issue): could be 1 to 4.
    T002 segment 2 at 2.20, likely 2.10 to 2.29: certain.
    T003 in deficit, average 1.90 likely 1.80 to 2.20: crosses t1 only, held in 3 anyway.
    Every other trust: a likely range equal to its average, so certain.
    """
    published = draft
    Release.objects.filter(pk=published.pk).update(
        t1=Decimal("2.065"), t2=Decimal("2.3"), t3=Decimal("2.585")
    )
    for row in TrustResult.objects.filter(release=published):
        row.average_low = row.average_high = row.average_score
        row.in_recovery_support = False
        row.save()
    set_row(
        published,
        "T001",
        segment=4,
        average_score=Decimal("2.60"),
        average_low=Decimal("1.91"),
        average_high=Decimal("3.23"),
        in_financial_deficit=False,
    )
    set_row(
        published,
        "T002",
        segment=2,
        average_score=Decimal("2.20"),
        average_low=Decimal("2.10"),
        average_high=Decimal("2.29"),
        in_financial_deficit=False,
    )
    set_row(
        published,
        "T003",
        segment=3,
        unadjusted_segment=1,
        average_score=Decimal("1.90"),
        average_low=Decimal("1.80"),
        average_high=Decimal("2.20"),
        in_financial_deficit=True,
    )
    published.refresh_from_db()
    return publish(published)


def test_the_possible_segments_follow_the_thresholds_and_the_overrides(table: Release) -> None:
    rows = {
        r.trust.ods_code: r
        for r in TrustResult.objects.filter(release=table).select_related("trust")
    }
    assert possible_segments(rows["T001"], table) == [1, 2, 3, 4]
    assert possible_segments(rows["T002"], table) == [2]
    assert possible_segments(rows["T003"], table) == [3]
    # A range ending exactly on a threshold stays in the better segment; one starting on it
    # reaches into the next.
    rows["T002"].average_high = Decimal("2.30")
    assert possible_segments(rows["T002"], table) == [2]
    rows["T002"].average_low = Decimal("2.065")
    assert possible_segments(rows["T002"], table) == [1, 2]
    rows["T001"].in_recovery_support = True
    assert possible_segments(rows["T001"], table) == [4]


def test_the_league_table_labels_and_filters_uncertain_segments(
    client: Client, table: Release
) -> None:
    page = client.get(table.get_absolute_url()).content.decode()
    row = page[page.index('data-trust="T001"') :]
    row = row[: row.index("</tr>")]
    assert "Segment uncertain" in row and "likely 1 to 4" in row
    certain = page[page.index('data-trust="T002"') :]
    assert "Segment uncertain" not in certain[: certain.index("</tr>")]
    # The thresholds are marked on the average-score drawing.
    assert row.count("lt-interval__threshold") == 3

    filtered = client.get(table.get_absolute_url() + "?segment_uncertain=true")
    assert [r.trust.ods_code for r in filtered.context["rows"]] == ["T001"]
    assert (
        'name="segment_uncertain" type="checkbox" value="true" checked' in filtered.content.decode()
    )


def test_the_trust_page_says_which_segments_it_could_be_in(client: Client, table: Release) -> None:
    page = client.get("/trusts/T001/").content.decode()
    assert "Segment uncertain" in page
    assert (
        "(1.91 to 3.23) crosses segment thresholds: it could well be in segment 1, 2, 3 or 4"
        in page
    )
    assert "Segment uncertain" not in client.get("/trusts/T002/").content.decode()


def test_the_api_carries_the_label_and_the_filter(client: Client, table: Release) -> None:
    url = reverse("api:release-rows", kwargs={"release_id": table.pk})
    rows = client.get(url).json()["results"]
    flags = {row["trust"]: row["segment_uncertain"] for row in rows}
    assert flags["T001"] is True and flags["T002"] is False and flags["T003"] is False
    only = client.get(url + "?segment_uncertain=true").json()["results"]
    assert [row["trust"] for row in only] == ["T001"]
    history = client.get(reverse("api:trust-detail", kwargs={"ods_code": "T001"})).json()
    assert history["history"][0]["segment_uncertain"] is True


def test_the_downloads_carry_the_label(client: Client, table: Release) -> None:
    base = table.get_absolute_url().rstrip("/")
    document = json.loads(client.get(f"{base}/league-table.json").content)
    flags = {row["Trust_code"]: row["Segment_uncertain"] for row in document["league_table"]}
    assert flags["T001"] is True and flags["T002"] is False


def test_the_methodology_page_explains_it_in_plain_words(client: Client, table: Release) -> None:
    page = client.get("/methodology/").content.decode()
    assert 'id="segment-uncertain"' in page
    assert "could well belong in the segment on the other side" in page
