"""The public cache: stored bytes, compressed, revalidated, and never a withdrawn table.

The faults are real ones: the shared cache is a Redis client pointed at a closed port, so every
operation on it fails as it does when Redis is stopped.
"""

import gzip
import logging

import brotli
import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.utils import timezone

from leaguetable import roles
from public import caching
from releases.models import Release, TrustResult
from releases.services import lifecycle
from tests.factories import approved_release, computed_release, user_with_role
from tests.public.conftest import publish, withdraw

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "leaguetable.cache.ResilientRedisCache",
        # Port 1 on the loopback: nothing listens, every connection is refused at once.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def redis_stopped(settings):
    settings.CACHES = UNREACHABLE_REDIS
    caching.local_store.clear()
    yield
    caching.local_store.clear()


def public_urls(release: Release) -> list[str]:
    trust = TrustResult.objects.filter(release=release).select_related("trust").first().trust
    table = release.get_absolute_url()
    return [
        "/",
        table,
        table + "?sort=-average",
        table + "league-table.csv",
        table + "data.csv",
        table + "league-table.json",
        "/trusts/",
        trust.get_absolute_url(),
        f"/compare/?trusts={trust.ods_code}",
        "/methodology/",
        "/releases/",
        "/releases/feed.atom",
        "/sitemap.xml",
        "/api/v1/releases/",
        f"/api/v1/releases/{release.pk}/",
        f"/api/v1/releases/{release.pk}/rows/",
        "/api/v1/trusts/",
        f"/api/v1/trusts/{trust.ods_code}/",
        "/api/v1/metrics/",
        "/api/v1/frameworks/",
    ]


def test_pages_are_compressed_for_clients_that_accept_it(client, published):
    url = published.get_absolute_url()
    plain = client.get(url)
    assert "Content-Encoding" not in plain
    assert plain["Vary"] == "Accept-Encoding"
    assert int(plain["Content-Length"]) == len(plain.content)

    as_brotli = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert as_brotli["Content-Encoding"] == "br"
    assert brotli.decompress(as_brotli.content) == plain.content
    assert len(as_brotli.content) < len(plain.content) / 4

    as_gzip = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert as_gzip["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.content) == plain.content

    refused = client.get(url, HTTP_ACCEPT_ENCODING="br;q=0, gzip;q=0")
    assert "Content-Encoding" not in refused
    assert refused.content == plain.content
    # One representation, one validator, whatever the encoding.
    assert as_brotli["ETag"] == as_gzip["ETag"] == plain["ETag"]


@pytest.mark.parametrize(
    ("accept_encoding", "sent"),
    [
        ("br;q=0.5, gzip;q=0.6", "gzip"),  # the client prefers gzip
        ("gzip;q=0.6, br;q=0.5", "gzip"),
        ("br;q=0.2, gzip;q=0.2", "br"),  # a tie: the smaller
        ("*", "br"),
        ("br;q=0, *", "gzip"),
        ("*;q=0, gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;level=1", "gzip"),  # an unknown parameter is no refusal
        ("identity", None),
        ("deflate", None),
        ("gzip;q=0", None),
        ("gzip;q=2", None),  # out of range: not taken as a yes
        ("gzip;q=nonsense", None),
    ],
)
def test_the_encoding_sent_is_the_one_the_client_prefers(client, published, accept_encoding, sent):
    response = client.get(published.get_absolute_url(), HTTP_ACCEPT_ENCODING=accept_encoding)
    assert response.get("Content-Encoding") == sent
    assert response.status_code == 200


def test_the_api_is_compressed_and_varies_on_accept(client, published):
    url = f"/api/v1/releases/{published.pk}/rows/"
    plain = client.get(url)
    compressed = client.get(url, HTTP_ACCEPT_ENCODING="br")
    assert compressed["Content-Encoding"] == "br"
    assert brotli.decompress(compressed.content) == plain.content
    assert compressed["Vary"] == "Accept, Accept-Encoding"
    browsable = client.get(url, HTTP_ACCEPT="text/html")
    assert browsable["Content-Type"].startswith("text/html")
    assert client.get(url)["Content-Type"] == "application/json"


def test_a_not_modified_answer_and_a_head_request(client, published):
    url = published.get_absolute_url()
    response = client.get(url)
    again = client.get(url, HTTP_IF_NONE_MATCH=f'"other", {response["ETag"]}')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == response["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH='W/"other"').status_code == 200
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == response["Content-Length"]


def test_an_etag_survives_a_publication_that_did_not_change_the_page(client, published):
    url = "/methodology/"
    etag = client.get(url)["ETag"]
    publish(computed_release(trust_count=8, quarter_number=3, replicates=20))
    # The page was rendered again under the new generation, and came out the same.
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code in (200, 304)
    assert client.get(url)["ETag"] == client.get(url)["ETag"]


def test_a_withdrawal_by_any_path_answers_410_at_once(client, published):
    url = published.get_absolute_url()
    csv_url = url + "league-table.csv"
    rows_url = f"/api/v1/releases/{published.pk}/rows/"
    for each in (url, csv_url, rows_url):
        assert client.get(each).status_code == 200
    # A bare status update: no signal, no cache operation of any kind.
    Release.objects.filter(pk=published.pk).update(
        status=Release.Status.WITHDRAWN, withdrawal_reason="Supplier error."
    )
    for each in (url, csv_url):
        assert client.get(each).status_code == 410, each
    # The open API answers a schema-valid request for a withdrawn table's rows 404, with why.
    assert client.get(rows_url).status_code == 404
    assert client.get(rows_url).json()["withdrawal_reason"] == "Supplier error."


def test_a_scheduled_release_is_public_the_moment_the_beat_publishes_it(client):
    release, approver = approved_release(trust_count=8, replicates=20)
    lifecycle.schedule(release, approver, timezone.now() + timezone.timedelta(hours=1))
    url = release.get_absolute_url()
    assert client.get(url).status_code == 404
    assert b"No league table has been published yet" in client.get("/").content  # stored
    assert lifecycle.publish_due(timezone.now() + timezone.timedelta(hours=2)) == 1
    assert client.get(url).status_code == 200
    assert url.encode() in client.get("/").content


def test_a_trust_renamed_shows_on_the_trust_index_at_once(client, published):
    trust = TrustResult.objects.filter(release=published).select_related("trust").first().trust
    assert trust.name in client.get("/trusts/").content.decode()
    trust.name = "Renamed Community NHS Trust"
    trust.save()
    assert "Renamed Community NHS Trust" in client.get("/trusts/").content.decode()


def test_with_redis_stopped_every_public_page_and_api_list_answers_from_the_database(
    client, published, redis_stopped, caplog
):
    urls = public_urls(published)
    with caplog.at_level(logging.WARNING, logger="leaguetable.cache"):
        for _ in range(2):
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, url
    outages = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outages) == 1, "the outage is logged once, not once per request"


def test_withdrawing_with_redis_stopped_answers_410_at_once(
    client, redis_stopped, django_capture_on_commit_callbacks
):
    release, approver = approved_release(trust_count=8, replicates=20)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(release, approver)
    url = release.get_absolute_url()
    urls = [url, url + "league-table.csv", f"/api/v1/releases/{release.pk}/rows/"]
    for each in urls:
        assert client.get(each).status_code == 200  # now held in this process's memory

    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "release",
            "withdraw",
            quarter=release.quarter.label,
            peer_group=release.peer_group.slug,
            user="approver",
            reason="The supplier found an error in its return.",
        )
    for each in urls:
        response = client.get(each)
        # The open API answers its schema-valid request 404 with the notice; pages 410.
        assert response.status_code == (404 if each.startswith("/api/") else 410), each
        assert b"The supplier found an error in its return." in response.content


def test_a_stored_response_outlives_nothing_it_showed_in_the_shared_cache(client, published):
    """Even a shared cache that still holds the old entries (its deletes all failed) is never
    asked for them again: the keys moved on with the database."""
    url = published.get_absolute_url()
    client.get(url)
    caching.local_store.clear()  # another process: only the shared cache has the page
    withdraw(published, "Supplier error.")
    assert client.get(url).status_code == 410


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(HttpResponse("personal", headers={"Vary": "Cookie"}), id="vary-cookie"),
        pytest.param(HttpResponse("personal", headers={"Cache-Control": "private"}), id="private"),
        pytest.param(HttpResponse("error", status=500), id="server-error"),
        pytest.param(HttpResponse("missing", status=404), id="not-found"),
    ],
)
def test_responses_that_may_differ_by_visitor_or_fail_are_not_stored(response):
    assert not caching.storable(response)


def test_a_response_setting_a_cookie_is_not_stored():
    response = HttpResponse("with a token")
    response.set_cookie("csrftoken", "x")
    assert not caching.storable(response)
    assert caching.storable(HttpResponse("published"))


def test_what_the_public_cache_does_not_store_no_shared_cache_may_keep(client, published):
    board = user_with_role("board", roles.BOARD_MEMBER)
    client.force_login(board)
    assert client.get("/trust-area/")["Cache-Control"] == "private"
    assert client.get("/league-tables/acute/2025-26-q4/")["Cache-Control"] == "private"  # 404
    assert "private" in client.get("/admin/")["Cache-Control"]
    assert client.get("/")["Cache-Control"] == "public, max-age=5, must-revalidate"


def test_a_change_to_public_support_or_freedoms_moves_the_generation(published):
    from interventions.models import FreedomType

    before = caching.generation()
    FreedomType.objects.create(slug="capital", name="Capital freedom")
    assert caching.generation() != before


def test_a_stored_response_is_rendered_again_after_its_lifetime(monkeypatch):
    store = caching.LocalStore(budget=10_000, lifetime=600)
    stored = caching.Stored.of(HttpResponse("published"))
    store.put("key", stored)
    assert store.get("key") is stored
    now = caching.time.monotonic()
    monkeypatch.setattr(caching.time, "monotonic", lambda: now + 601)
    assert store.get("key") is None
    assert store.used == 0
