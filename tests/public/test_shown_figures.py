"""The figures a trust page, a download and the API show agree with the published average.

Replayed from NHS England's real MH&C data file: RYY's average (1.53) is the mean of 7 counted
metric scores. The combined-finance parts (OF0079, OF0081) are shown on the page but are not
counted on their own, so they must not be counted in "mean of N" either.
"""

import io
import json
from decimal import Decimal

import pytest

from metrics.models import MetricDefinition
from releases.models import MetricResult, Release, TrustResult
from releases.services import computation
from releases.services.drafts import draft_release, parse_quarter
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_q4(real_nof: None) -> Release:
    release = draft_release(parse_quarter("Q4 2025/26"), "mental-health-community")
    release.replicates = 50
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return publish(release)


def counted_scores(release: Release, code: str) -> list[Decimal]:
    counted = set(
        MetricDefinition.objects.filter(
            framework_id=release.framework_id, counted=True
        ).values_list("metric_id", flat=True)
    )
    return [
        r.score
        for r in MetricResult.objects.filter(release=release, trust__ods_code=code)
        if r.metric_id in counted and r.score is not None
    ]


def test_metrics_scored_counts_only_what_the_average_counts(real_q4):
    rows = TrustResult.objects.filter(release=real_q4).select_related("trust")
    assert rows.count() == 61
    for row in rows:
        scores = counted_scores(real_q4, row.trust.ods_code)
        assert row.metrics_scored == len(scores), row.trust.ods_code
        if scores:
            mean = sum(scores) / len(scores)
            assert abs(mean - row.average_score) < Decimal("0.006"), row.trust.ods_code
    ryy = rows.get(trust__ods_code="RYY")
    assert (ryy.metrics_scored, ryy.average_score) == (7, Decimal("1.53"))


def test_the_trust_page_says_mean_of_the_counted_metrics(client, real_q4):
    page = client.get("/trusts/RYY/").content.decode()
    assert "Mean of 7 metric scores" in page
    assert "Mean of 9 metric scores" not in page

    # A segment 4 trust not in deficit: the points it must shed to reach segment 3 are
    # (average - t3) x the metrics its average counts, and the page says so.
    row = (
        TrustResult.objects.filter(
            release=real_q4,
            unadjusted_segment=4,
            in_financial_deficit=False,
            in_recovery_support=False,
        )
        .select_related("trust")
        .first()
    )
    assert row is not None
    page = client.get(f"/trusts/{row.trust.ods_code}/").content.decode()
    scored = len(counted_scores(real_q4, row.trust.ods_code))
    needed = ((Decimal(repr(row.average_exact)) - real_q4.t3) * scored).quantize(Decimal("0.01"))
    assert f"Mean of {scored} metric scores" in page
    assert f"{needed} score points less in total across its {scored} scored metrics" in page


def test_downloads_and_api_carry_the_same_count(client, real_q4):
    base = real_q4.get_absolute_url()
    data = json.loads(client.get(f"{base}league-table.json").content)
    by_code = {row["Trust_code"]: row for row in data["league_table"]}
    assert by_code["RYY"]["Metrics_scored"] == 7

    rows = client.get(f"/api/v1/releases/{real_q4.pk}/rows/?limit=500").json()["results"]
    by_code = {
        row["trust"]["ods_code"] if isinstance(row["trust"], dict) else row["trust"]: row
        for row in rows
    }
    assert by_code["RYY"]["metrics_scored"] == 7

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(client.get(f"{base}league-table.xlsx").content))
    sheet = workbook["League table"]
    header = [cell.value for cell in sheet[1]]
    found = {
        row[header.index("Trust_code")]: row[header.index("Metrics_scored")]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert found["RYY"] == 7
