"""A figure is rounded one way wherever it is shown or published: half up to 2 d.p. from the
stored value (public.figures), on the trust page, in data.csv, the JSON, the spreadsheet and
NHS England's trust data file alike."""

import csv
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from releases.models import MetricPeerStatistics, MetricResult, Release
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db

BASE = "/league-tables/mental-health-community/2025-26-q4/"
# Exactly half-way at the third decimal: half to even gives 8.76 and 15.32.
MEDIAN, LOWER, UPPER = Decimal("8.765"), Decimal("2.125"), Decimal("15.325")


@pytest.fixture
def halfway(draft: Release) -> tuple[Release, MetricResult]:
    result = (
        MetricResult.objects.filter(release=draft, value__isnull=False)
        .select_related("metric", "trust")
        .first()
    )
    MetricPeerStatistics.objects.filter(release=draft, metric=result.metric).update(
        median=MEDIAN, lower_quartile=LOWER, upper_quartile=UPPER
    )
    return publish(draft), result


def test_the_trust_page_rounds_a_peer_statistic_half_up(client, halfway):
    _, result = halfway
    page = client.get(result.trust.get_absolute_url())
    line = next(
        line
        for block in page.context["page"].domains
        for line in block.lines
        if line.metric.pk == result.metric_id
    )
    assert line.median_display.startswith("8.77")
    assert line.quartiles_display.startswith("2.13")
    assert "15.33" in line.quartiles_display


def test_every_download_rounds_a_peer_statistic_as_the_page_does(client, halfway):
    _, result = halfway
    code, trust = result.metric.code, result.trust.ods_code

    text = client.get(BASE + "data.csv").content.decode("utf-8-sig")
    row = next(
        r
        for r in csv.DictReader(io.StringIO(text))
        if r["Metric_ID"] == code and r["Trust_code"] == trust
    )
    assert (row["Peer_median"], row["Peer_lower_quartile"], row["Peer_upper_quartile"]) == (
        "8.77",
        "2.13",
        "15.33",
    )

    document = json.loads(client.get(BASE + "league-table.json").content)
    item = next(
        r for r in document["metric_data"] if r["Metric_ID"] == code and r["Trust_code"] == trust
    )
    assert (item["Peer_median"], item["Peer_lower_quartile"], item["Peer_upper_quartile"]) == (
        8.77,
        2.13,
        15.33,
    )
    assert "rounded half up" in document["metadata"]["rounding"]

    nhs = client.get(BASE + "trust-data.csv").content.decode("utf-8-sig")
    nhs_row = next(
        r
        for r in csv.DictReader(io.StringIO(nhs))
        if r["Metric_ID"] == code and r["Trust_code"] == trust
    )
    assert (nhs_row["Median_value"], nhs_row["Upper_quartile"]) == ("8.77", "15.33")

    book = load_workbook(io.BytesIO(client.get(BASE + "league-table.xlsx").content))
    sheet = next(
        s
        for s in book.worksheets
        if s.cell(1, 1).value == "Quarter" and any(c.value == "Peer_median" for c in s[1])
    )
    header = [c.value for c in sheet[1]]
    for cells in sheet.iter_rows(min_row=2, values_only=True):
        record = dict(zip(header, cells, strict=False))
        if record["Metric_ID"] == code and record["Trust_code"] == trust:
            assert record["Peer_median"] == 8.77
            break
    else:
        pytest.fail("no spreadsheet row")
