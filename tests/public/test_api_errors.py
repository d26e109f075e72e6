"""The open API answers what its schema says: JSON errors with documented status codes,
validated `limit` and `offset`, and schema-valid requests accepted."""

import pytest

from tests.public.conftest import correct, withdraw

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-1",
        "limit=501",
        "limit=abc",
        "limit=1.5",
        "limit=%EF%BC%91",  # a full-width digit
        f"limit={'9' * 30}",
        "offset=-1",
        "offset=1000001",
        f"offset={'9' * 30}",
        "offset=x",
        "status=",
        "status=draft",
        "status=approved",
    ],
)
def test_junk_paging_and_filters_are_a_400_naming_the_parameter(client, published, query):
    response = client.get(f"/api/v1/releases/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    name = query.partition("=")[0]
    assert name in response.json()


@pytest.mark.parametrize("query", ["limit=1", "limit=500", "offset=0", "offset=1000000"])
def test_paging_within_its_documented_range_is_accepted(client, published, query):
    assert client.get(f"/api/v1/releases/?{query}").status_code == 200


def test_unknown_regions_and_subtypes_filter_to_nothing_rather_than_refuse(client, published):
    for query in ("region=atlantis", "subtype=Nothing", "q=zzz"):
        response = client.get(f"/api/v1/releases/{published.pk}/rows/?{query}")
        assert response.status_code == 200, query
        assert response.json()["results"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/releases/abc/",
        "/api/v1/releases/1.5/",
        "/api/v1/releases/999999/",
        "/api/v1/releases/999999/rows/",
        "/api/v1/trusts/NOPE/",
        "/api/v1/trusts/a.b/",
        "/api/v1/metrics/NOPE/",
        "/api/v1/frameworks/x/",
        "/api/v1/nothing-here/",
        "/api/v2/",
    ],
)
def test_a_missing_resource_is_a_json_404(client, published, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_withdrawn_releases_rows_are_a_404_with_its_notice(client, published):
    withdraw(published, "A supplier's return was wrong.")
    response = client.get(f"/api/v1/releases/{published.pk}/rows/")
    assert response.status_code == 404
    assert response.json()["withdrawal_reason"] == "A supplier's return was wrong."


def test_the_schema_documents_the_errors_every_operation_gives(client, published):
    correct(published, "Corrected.")
    schema = client.get("/api/schema/?format=json").json()
    operations = [op for item in schema["paths"].values() for op in item.values()]
    assert len(operations) >= 9
    for operation in operations:
        assert {"400", "404"} <= set(operation["responses"])
        for code in ("400", "404"):
            assert "application/json" in operation["responses"][code]["content"]
    limit = next(
        p for p in schema["paths"]["/api/v1/releases/"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/schema/?format=xyz", 404),
        ("post", "/api/schema/", 405),
        ("delete", "/api/schema/?format=json", 405),
    ],
)
def test_the_schema_refuses_in_the_apis_json(client, db, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_the_schema_is_still_served_in_yaml_and_json(client, db):
    assert client.get("/api/schema/")["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "openapi" in client.get("/api/schema/?format=json").json()
