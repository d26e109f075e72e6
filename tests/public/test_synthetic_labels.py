"""Synthetic values say so wherever they appear: pages, API, downloads and feed; and a real
table says nothing of the kind, even in a portal that also holds the demonstration's values."""

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook

from metrics.models import Metric, Observation, Quarter
from releases.models import MetricResult, Release, TrustResult
from releases.selectors import DERIVED_MARK, SYNTHETIC_MARK, league_table_csv
from releases.services import computation
from releases.services.drafts import draft_release
from tests.conftest import LEAGUE_TABLE_FILE
from tests.factories import synthetic_acute_release
from tests.public.conftest import publish
from trusts.models import Trust

pytestmark = pytest.mark.django_db

ACUTE = "/league-tables/acute/2025-26-q4/"
MENTAL_HEALTH = "/league-tables/mental-health-community/2025-26-q4/"
TAG = ">Synthetic</strong>"


@pytest.fixture
def acute() -> Release:
    return publish(synthetic_acute_release())


def rows_of(release: Release) -> int:
    return TrustResult.objects.filter(release=release).count()


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_api_says_which_releases_rows_results_and_metrics_are_synthetic(client, acute):
    listed = client.get("/api/v1/releases/").json()["results"]
    assert [(r["id"], r["is_synthetic"]) for r in listed] == [(acute.pk, True)]
    release = client.get(f"/api/v1/releases/{acute.pk}/").json()
    assert release["is_synthetic"] is True
    assert {"AE4H", "OF1080", "OF0079"} <= set(release["synthetic_metrics"])

    rows = client.get(f"/api/v1/releases/{acute.pk}/rows/?limit=500").json()["results"]
    assert len(rows) == rows_of(acute)
    assert all(row["is_synthetic"] is True for row in rows)

    history = client.get(f"/api/v1/trusts/{rows[0]['trust']}/").json()["history"]
    assert [(h["release"], h["is_synthetic"]) for h in history] == [(acute.pk, True)]

    # Not marked as a metric: its Q4 values are synthetic, and OF1080's inputs are.
    for code in ("AE4H", "OF1080"):
        assert not Metric.objects.get(code=code).is_synthetic
        metric = client.get(f"/api/v1/metrics/{code}/").json()
        assert metric["is_synthetic"] is True, code
        assert [(r["id"], r["is_synthetic"]) for r in metric["releases"]] == [(acute.pk, True)]
    listed_metrics = {
        m["code"]: m for m in client.get("/api/v1/metrics/?limit=500").json()["results"]
    }
    assert listed_metrics["OF1080"]["is_synthetic"] is True
    # A metric no published table scores says nothing synthetic.
    assert listed_metrics["OF0005"]["is_synthetic"] is False

    framework = client.get("/api/v1/frameworks/").json()["results"][0]
    definitions = {
        d["metric"]["code"]: d["metric"]
        for domain in framework["domains"]
        for d in domain["definitions"]
    }
    assert definitions["OF1080"]["is_synthetic"] is True
    assert framework["releases"][0]["is_synthetic"] is True


def test_the_schema_documents_what_is_synthetic(client, db):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    for name in ("Release", "LeagueTableRow", "TrustHistory", "Metric", "MetricDetail"):
        field = schemas[name]["properties"]["is_synthetic"]
        assert "synthetic" in field["description"].lower(), name
    assert "synthetic_metrics" in schemas["Release"]["properties"]
    assert schemas["MetricRelease"]["properties"]["is_synthetic"]["type"] == "boolean"
    assert "releases" in schemas["MetricDetail"]["properties"]


def test_every_download_says_so(client, acute):
    data = csv_rows(client.get(ACUTE + "data.csv").content)
    assert len(data) == MetricResult.objects.filter(release=acute).count()
    assert {row["Synthetic"] for row in data} == {"Yes"}
    assert any(row["Metric_ID"] == "OF1080" for row in data)

    meta = json.loads(client.get(ACUTE + "metadata.json").content)
    assert meta["contains_synthetic_values"] is True
    assert "OF1080" in meta["synthetic_metrics"]
    assert "demonstration" in meta["synthetic_values"]

    document = json.loads(client.get(ACUTE + "league-table.json").content)
    assert document["metadata"] == meta
    assert {row["Synthetic"] for row in document["league_table"]} == {True}
    assert {row["Synthetic"] for row in document["metric_data"]} == {True}

    workbook = load_workbook(io.BytesIO(client.get(ACUTE + "league-table.xlsx").content))
    for sheet in ("League table", "Domain segments", "Metric data"):
        header, *values = list(workbook[sheet].values)
        column = header.index("Synthetic")
        assert {row[column] for row in values} == {"Yes"}, sheet
    about = {row[0]: row[1] for row in workbook["Metadata"].values if row and row[0]}
    assert about["contains_synthetic_values"] == "Yes"

    trust_data = client.get(ACUTE + "trust-data.csv")
    for row in csv_rows(trust_data.content):
        assert row["Metric_description"].endswith((SYNTHETIC_MARK, DERIVED_MARK)), row

    # NHS England's league-table format keeps its columns; its saved name says it.
    table = client.get(ACUTE + "league-table.csv")
    assert table.content == league_table_csv(acute).encode("utf-8")
    assert b"ynthetic" not in table.content
    for name in ("league-table.csv", "trust-data.csv", "data.csv", "metadata.json"):
        disposition = client.get(ACUTE + name)["Content-Disposition"]
        stem, extension = name.rsplit(".", 1)
        assert f'filename="acute-2025-26-q4-{stem}-synthetic.{extension}"' in disposition


def test_pages_say_so_in_words_on_every_row_and_value(client, acute):
    table = client.get(ACUTE).content.decode()
    assert "Contains synthetic values" in table
    body = table[table.index("<tbody") :]
    assert body.count(TAG) == rows_of(acute)

    domains = client.get(ACUTE + "domains/").content.decode()
    assert "Contains synthetic values" in domains
    assert domains[domains.index("<tbody") :].count(TAG) == rows_of(acute)

    row = TrustResult.objects.filter(release=acute).select_related("trust").first()
    page = client.get(row.trust.get_absolute_url()).content.decode()
    assert "Contains synthetic values" in page
    assert "computed from synthetic values, not published NHS data" in page
    every_metric = page[page.index("<h2>Every metric</h2>") :]
    shown = MetricResult.objects.filter(release=acute, trust=row.trust).count()
    assert every_metric.count(TAG) == shown
    # OF1080 is computed from synthetic inputs: its line is marked too.
    combined = re.search(r"Combined finance.*?</th>", every_metric, re.S).group(0)
    assert TAG in combined
    history = page[page.index("Published results by quarter") :]
    assert history[: history.index("</table>")].count(TAG) == 1

    compare = client.get(f"/compare/?trusts={row.trust.ods_code}").content.decode()
    assert compare.count(TAG) == 1 + shown

    assert "Contains synthetic values" in client.get("/releases/").content.decode()
    assert "Contains synthetic values" in client.get("/").content.decode()
    methodology = client.get("/methodology/").content.decode()
    combined = re.search(r"Combined finance.*?</th>", methodology, re.S).group(0)
    assert TAG in combined


def test_the_feed_says_so(client, acute):
    feed = client.get("/releases/feed.atom").content.decode()
    assert "Published: Acute trusts Q4 2025/26 (synthetic values)" in feed
    assert "Contains synthetic values: generated for demonstration" in feed


def test_the_real_mental_health_table_is_marked_nowhere(client, real_nof):
    """NHS England's real MH&C data in a portal that also holds synthetic acute values, some of
    them in the national pool of OF0082: nothing of the MH&C table is synthetic."""
    q4 = Quarter.objects.get(year_start=2025, number=4)
    Observation.objects.bulk_create(
        Observation(
            trust=trust,
            metric=Metric.objects.get(code="OF0082"),
            quarter=q4,
            value=5,
            is_synthetic=True,
        )
        for trust in Trust.objects.filter(peer_group__slug="acute")[:3]
    )
    release = draft_release(q4, "mental-health-community")
    release.replicates = 50
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    publish(release)

    assert client.get(f"/api/v1/releases/{release.pk}/").json()["is_synthetic"] is False
    assert client.get(f"/api/v1/releases/{release.pk}/").json()["synthetic_metrics"] == []
    rows = client.get(f"/api/v1/releases/{release.pk}/rows/?limit=500").json()["results"]
    assert len(rows) == 61
    assert not any(row["is_synthetic"] for row in rows)
    history = client.get(f"/api/v1/trusts/{rows[0]['trust']}/").json()["history"]
    assert not any(h["is_synthetic"] for h in history)
    for code in ("OF0082", "OF1080"):
        metric = client.get(f"/api/v1/metrics/{code}/").json()
        assert metric["is_synthetic"] is False
        assert [(r["id"], r["is_synthetic"]) for r in metric["releases"]] == [(release.pk, False)]

    assert {
        row["Synthetic"] for row in csv_rows(client.get(MENTAL_HEALTH + "data.csv").content)
    } == {"No"}
    meta = json.loads(client.get(MENTAL_HEALTH + "metadata.json").content)
    assert meta["contains_synthetic_values"] is False
    assert meta["synthetic_metrics"] == []
    document = json.loads(client.get(MENTAL_HEALTH + "league-table.json").content)
    assert not any(row["Synthetic"] for row in document["league_table"])
    trust_data = client.get(MENTAL_HEALTH + "trust-data.csv")
    assert b"ynthetic" not in trust_data.content
    table = client.get(MENTAL_HEALTH + "league-table.csv")
    assert "-synthetic" not in table["Content-Disposition"]
    assert table.content.split(b"\r\n")[0] == LEAGUE_TABLE_FILE.read_bytes().split(b"\r\n")[0]

    for url in (MENTAL_HEALTH, MENTAL_HEALTH + "domains/", f"/trusts/{rows[0]['trust']}/", "/"):
        assert "ynthetic" not in client.get(url).content.decode(), url
    assert "synthetic" not in client.get("/releases/feed.atom").content.decode()
