import pytest

from releases.models import TrustResult
from tests.factories import computed_release
from tests.public.conftest import correct, publish

pytestmark = pytest.mark.django_db


def test_releases_lists_only_visible_releases(client, published):
    computed_release(trust_count=8, quarter_number=3, replicates=20)  # a draft
    data = client.get("/api/v1/releases/").json()
    assert data["count"] == 1
    release = data["results"][0]
    assert release["id"] == published.pk
    assert release["status"] == "published"
    assert release["quarter"] == "Q4 2025/26"
    assert release["thresholds"] == [float(published.t1), float(published.t2), float(published.t3)]
    assert release["rows_url"].endswith(f"/api/v1/releases/{published.pk}/rows/")


def test_releases_filter_by_peer_group_and_quarter(client, published):
    assert client.get("/api/v1/releases/?quarter=2025-26-q4").json()["count"] == 1
    assert client.get("/api/v1/releases/?quarter=2025-26-q3").json()["count"] == 0
    assert client.get("/api/v1/releases/?peer_group=acute").json()["count"] == 0


def test_rows_filter_and_sort_as_the_page_does(client, published):
    rows = list(TrustResult.objects.filter(release=published).select_related("trust__region"))
    url = f"/api/v1/releases/{published.pk}/rows/"
    data = client.get(url).json()
    assert data["count"] == len(rows)
    assert [r["rank"] for r in data["results"]] == sorted(r.rank for r in rows)
    region = rows[0].trust.region
    data = client.get(f"{url}?region={region.slug}&sort=-average").json()
    expected = sorted(
        (r for r in rows if r.trust.region_id == region.pk),
        key=lambda r: r.average_score,
        reverse=True,
    )
    assert [r["trust"] for r in data["results"]] == [r.trust.ods_code for r in expected]
    assert isinstance(data["results"][0]["average_score"], float)


def test_rows_are_paginated(client, published):
    data = client.get(f"/api/v1/releases/{published.pk}/rows/?limit=3").json()
    assert len(data["results"]) == 3
    assert data["next"]


def test_rows_of_an_unpublished_release_are_404(client, draft):
    assert client.get(f"/api/v1/releases/{draft.pk}/rows/").status_code == 404
    assert client.get(f"/api/v1/releases/{draft.pk}/").status_code == 404


def test_trust_detail_has_its_published_history(client, published):
    row = TrustResult.objects.filter(release=published).select_related("trust").first()
    data = client.get(f"/api/v1/trusts/{row.trust.ods_code}/").json()
    assert data["ods_code"] == row.trust.ods_code
    assert [h["release"] for h in data["history"]] == [published.pk]
    assert data["history"][0]["rank"] == row.rank


def test_a_correction_replaces_the_history_entry(client, published):
    correction = correct(published, "Fixed.")
    row = TrustResult.objects.filter(release=correction).select_related("trust").first()
    data = client.get(f"/api/v1/trusts/{row.trust.ods_code}/").json()
    assert [h["release"] for h in data["history"]] == [correction.pk]
    statuses = {r["id"]: r["status"] for r in client.get("/api/v1/releases/").json()["results"]}
    assert statuses == {published.pk: "superseded", correction.pk: "published"}


def test_metrics_and_frameworks(client, published):
    metric = client.get("/api/v1/metrics/OF0084/").json()
    assert metric["direction"] == "higher"
    frameworks = client.get("/api/v1/frameworks/").json()["results"]
    assert [f["slug"] for f in frameworks] == [published.framework.slug]
    codes = {
        d["metric"]["code"] for domain in frameworks[0]["domains"] for d in domain["definitions"]
    }
    assert "OF1080" in codes
    assert frameworks[0]["releases"][0]["id"] == published.pk


def test_frameworks_are_listed_only_once_a_table_uses_them(client, draft):
    assert client.get("/api/v1/frameworks/").json()["count"] == 0


def test_published_responses_carry_etags_and_cache_headers(client, published):
    url = f"/api/v1/releases/{published.pk}/rows/"
    response = client.get(url)
    assert response["Cache-Control"].startswith("public")
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    publish(computed_release(trust_count=8, quarter_number=3, replicates=20))
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


def test_throttle_answers_429(client, published, settings):
    from rest_framework.throttling import AnonRateThrottle

    rates = {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"}
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [client.get("/api/v1/metrics/").status_code for _ in range(5)]
    finally:
        AnonRateThrottle.THROTTLE_RATES = original
    assert codes[:3] == [200, 200, 200]
    assert codes[-1] == 429


def test_schema_and_docs(client, db):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/releases/{release_id}/rows/" in paths
    assert all(path.startswith("/api/v1/") for path in paths)
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("word", ["true", "TRUE", "1", "yes", "Yes", "false", "0", "no", "NO"])
def test_rows_filter_by_deficit_with_any_plain_yes_or_no(client, draft, word):
    in_deficit = list(TrustResult.objects.filter(release=draft).values_list("pk", flat=True))
    TrustResult.objects.filter(pk__in=in_deficit[:3]).update(in_financial_deficit=True)
    TrustResult.objects.filter(pk__in=in_deficit[3:]).update(in_financial_deficit=False)
    published = publish(draft)
    wanted = word.lower() in ("true", "1", "yes")
    data = client.get(f"/api/v1/releases/{published.pk}/rows/?deficit={word}").json()
    assert data["count"] == (3 if wanted else len(in_deficit) - 3)
    assert {row["in_financial_deficit"] for row in data["results"]} == {wanted}


@pytest.mark.parametrize("name", ["deficit", "segment_uncertain"])
@pytest.mark.parametrize("word", ["maybe", "2", "3", "on"])
def test_rows_refuse_a_yes_or_no_filter_they_cannot_read(client, published, name, word):
    response = client.get(f"/api/v1/releases/{published.pk}/rows/?{name}={word}")
    assert response.status_code == 400
    assert name in response.json()


def test_a_metric_is_found_by_its_code_in_any_case(client, published):
    upper = client.get("/api/v1/metrics/OF0084/")
    assert upper.status_code == 200
    for code in ("of0084", "Of0084"):
        response = client.get(f"/api/v1/metrics/{code}/")
        assert response.status_code == 200
        assert response.json() == upper.json()
    assert client.get("/api/v1/metrics/of9999/").status_code == 404
