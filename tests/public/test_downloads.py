import csv
import io
import json

import pytest
from openpyxl import load_workbook

from releases.models import MetricResult, TrustResult
from releases.selectors import league_table_csv
from tests.public.conftest import correct, withdraw

pytestmark = pytest.mark.django_db

BASE = "/league-tables/mental-health-community/2025-26-q4/"


def test_league_table_csv_is_nhs_englands_format_byte_for_byte(client, published):
    response = client.get(BASE + "league-table.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content == league_table_csv(published).encode("utf-8")
    assert response.content.startswith("\ufeffQuarter,Region,Trust_type".encode())
    assert "attachment" in response["Content-Disposition"]


def test_long_csv_has_one_row_per_trust_and_metric(client, published):
    response = client.get(BASE + "data.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == MetricResult.objects.filter(release=published).count()
    first = rows[0]
    assert first["Quarter"] == "Q4 2025/26"
    assert first["Release_revision"] == "1"
    assert first["Framework_version"] == str(published.framework.version)
    assert first["Published_at"] == published.published_at.isoformat()
    assert {
        "Unit",
        "Peer_median",
        "Peer_lower_quartile",
        "Peer_upper_quartile",
        "Synthetic",
    } <= set(first)


def test_xlsx_has_the_table_the_data_and_a_metadata_sheet(client, published):
    response = client.get(BASE + "league-table.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert workbook.sheetnames == ["League table", "Domain segments", "Metric data", "Metadata"]
    table = list(workbook["League table"].values)
    assert len(table) == 1 + TrustResult.objects.filter(release=published).count()
    by_domain = list(workbook["Domain segments"].values)
    assert by_domain[0][:4] == (
        "Trust_code",
        "Trust_name",
        "Access to services score",
        "Access to services segment",
    )
    first = TrustResult.objects.filter(release=published).select_related("trust").first()
    row = next(r for r in by_domain if r[0] == first.trust.ods_code)
    assert row[3] == first.domain_segments["access-to-services"]
    metadata = {row[0]: row[1] for row in workbook["Metadata"].values if row and row[0]}
    assert metadata["licence"] == "Open Government Licence v3.0"
    assert metadata["quarter"] == "Q4 2025/26"
    assert metadata["revision"] == 1
    assert metadata["framework_version"] == published.framework.version
    assert metadata["published_at"] == published.published_at.isoformat()
    workbook.close()


def test_json_says_what_it_is(client, published):
    response = client.get(BASE + "league-table.json")
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    meta = document["metadata"]
    assert meta["licence"] == "Open Government Licence v3.0"
    assert meta["quarter"] == "Q4 2025/26"
    assert meta["framework_version"] == published.framework.version
    assert meta["units"]["OF0084"] == "out of 10"
    assert len(document["league_table"]) == TrustResult.objects.filter(release=published).count()
    assert set(meta["domain_thresholds"]) == set(document["league_table"][0]["Domain_segments"])
    assert meta["domain_thresholds"]["patient-safety"]["method"] in ("fixed", "quartiles")
    assert document["metric_data"][0]["Metric_ID"]
    assert json.loads(client.get(BASE + "metadata.json").content) == meta


def test_a_superseded_revision_keeps_its_own_downloads(client, published):
    correct(published, "Fixed a metric.")
    old = client.get(BASE + "revisions/1/league-table.csv")
    assert old.status_code == 200
    assert old.content == league_table_csv(published).encode("utf-8")
    meta = json.loads(client.get(BASE + "metadata.json").content)
    assert meta["revision"] == 2
    assert meta["correction_note"] == "Fixed a metric."


def test_a_withdrawn_tables_downloads_are_gone(client, published):
    withdraw(published, "Supplier error.")
    for name in ("league-table.csv", "data.csv", "league-table.xlsx", "league-table.json"):
        response = client.get(BASE + name)
        assert response.status_code == 410
        assert b"Supplier error." in response.content


def test_an_unknown_download_is_404(client, published):
    assert client.get(BASE + "league-table.pdf").status_code == 404


@pytest.mark.parametrize("filename", ["league-table.csv", "trust-data.csv", "data.csv"])
def test_every_csv_says_it_is_utf_8(client, published, filename):
    response = client.get(BASE + filename)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())


def test_the_domain_sheet_shows_scores_as_the_pages_do(client, published):
    workbook = load_workbook(io.BytesIO(client.get(BASE + "league-table.xlsx").content))
    sheet = workbook["Domain segments"]
    header = [cell.value for cell in sheet[1]]
    scores = [i for i, name in enumerate(header) if name.endswith(" score")]
    segments = [i for i, name in enumerate(header) if name.endswith(" segment")]
    assert scores and segments
    for cells in sheet.iter_rows(min_row=2):
        for i in scores:
            if cells[i].value is not None:
                assert cells[i].number_format == "0.00", header[i]
        for i in segments:
            if cells[i].value is not None:
                assert cells[i].number_format == "0", header[i]


def test_the_api_and_json_say_how_domain_scores_are_rounded(client, published):
    document = json.loads(client.get(BASE + "league-table.json").content)
    assert (
        "Domain scores are given as stored, to 4 decimal places"
        in (document["metadata"]["rounding"])
    )
    schema = client.get("/api/schema/?format=json").json()
    rows = schema["components"]["schemas"]
    described = [
        body["properties"]["domain_scores"].get("description", "")
        for body in rows.values()
        if "domain_scores" in body.get("properties", {})
    ]
    assert described and all("4 decimal places" in text for text in described)
