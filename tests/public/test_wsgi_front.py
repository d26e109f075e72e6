"""The WSGI front (public.caching.StoredResponses): repeated public GETs answered from stored
bytes before Django runs, with exactly the answers Django's own path gives, and never one that
Django would refuse (a withdrawn table, an unknown host, a throttled API, a database fault).

Requests go through leaguetable.wsgi's application as a WSGI server would call it.
"""

import gzip
import io
import sys
from collections.abc import Iterator

import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections

from leaguetable import wsgi
from public import caching
from public.caching import StoredResponses
from tests.public.conftest import withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's open transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Counted:
    """Django's application, counting the requests that reach it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return wsgi.django_application(environ, start_response)


@pytest.fixture
def django_app() -> Counted:
    return Counted()


@pytest.fixture
def front(django_app: Counted) -> StoredResponses:
    return StoredResponses(django_app)


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body


def get(app, path: str, method: str = "GET", host: str = "testserver", **headers: str) -> Answer:
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    seen: dict = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, response_headers

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Answer(seen["status"], seen["headers"], body)


def test_a_repeated_page_is_answered_before_django_with_the_same_bytes_and_headers(
    front, django_app, published
):
    url = published.get_absolute_url()
    first = get(front, url)
    assert first.status == 200 and django_app.calls == 1
    again = get(front, url)
    assert django_app.calls == 1  # answered from the stored bytes
    assert again.body == first.body
    for header in (
        "content-type",
        "etag",
        "cache-control",
        "vary",
        "content-length",
        # Given by the security and CSP layers when the page was rendered, and kept with it.
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ):
        assert again.headers[header] == first.headers[header], header
    assert "set-cookie" not in again.headers


def test_the_front_compresses_revalidates_and_answers_head(front, django_app, published):
    url = published.get_absolute_url()
    plain = get(front, url)
    zipped = get(front, url, ACCEPT_ENCODING="gzip")
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert int(zipped.headers["content-length"]) == len(zipped.body)
    not_modified = get(front, url, IF_NONE_MATCH=plain.headers["etag"])
    assert not_modified.status == 304 and not_modified.body == b""
    head = get(front, url, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["content-length"] == plain.headers["content-length"]
    assert django_app.calls == 1


def test_a_withdrawn_table_is_gone_at_the_next_request(front, django_app, published):
    url = published.get_absolute_url()
    rows = f"/api/v1/releases/{published.pk}/rows/"
    assert get(front, url).status == 200
    get(front, url)
    calls = django_app.calls
    withdraw(published, "A data error was found after publication.")
    assert get(front, url).status == 410
    assert django_app.calls == calls + 1  # rendered afresh under the new generation
    assert get(front, rows).status in (404, 410)


def test_only_requests_django_accepted_are_ever_answered(front, django_app, published):
    url = published.get_absolute_url()
    for _ in range(2):
        refused = get(front, url, host="evil.example")
        assert refused.status == 400
    assert django_app.calls == 2
    for _ in range(2):
        assert get(front, url + "%00").status in (400, 404)
    assert django_app.calls == 4


def test_stored_api_answers_count_towards_the_rate_limit(front, django_app, published, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(
        AnonRateThrottle, "THROTTLE_RATES", {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"}
    )
    url = "/api/v1/releases/"
    answers = [get(front, url) for _ in range(5)]
    assert [answer.status for answer in answers] == [200, 200, 200, 429, 429]
    assert answers[1].body == answers[0].body
    assert django_app.calls == 1  # the first rendered it; the front answered and counted the rest
    assert "retry-after" in answers[3].headers
    assert b"Request was throttled" in answers[3].body


def test_a_database_fault_in_the_front_goes_to_django(front, django_app, published, monkeypatch):
    url = published.get_absolute_url()
    get(front, url)

    def broken(database) -> str:
        raise OperationalError("connection lost")

    monkeypatch.setattr(caching, "_read_generation", broken)
    # Django's own path meets the same fault and answers it as it always does: never the
    # stored page, which the front could not prove is still public.
    answer = get(front, url)
    assert answer.status >= 500
    assert django_app.calls == 2


def test_the_front_and_the_middleware_share_one_key(front, django_app, published, client):
    url = published.get_absolute_url()
    rendered = client.get(url)  # Django's path stores it
    # The test client connects close_old_connections again after its request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    answered = get(front, url)
    assert django_app.calls == 0
    assert answered.body == rendered.content


# What the shared cache may hold -------------------------------------------------------------


class SharedCache:
    """The shared cache (Redis in production) as a dict: what any other process would find."""

    def __init__(self) -> None:
        self.entries: dict = {}

    def get(self, key, default=None):
        return self.entries.get(key, default)

    def set(self, key, value, timeout=None) -> None:
        self.entries[key] = value

    def clear(self) -> None:
        self.entries.clear()


@pytest.fixture
def shared_cache(monkeypatch) -> SharedCache:
    shared = SharedCache()
    monkeypatch.setattr(caching, "cache", shared)
    caching.local_store.clear()
    yield shared
    caching.local_store.clear()


def asked_three_times(front, django_app, path: str, **request: str) -> tuple[int, int]:
    """Django's calls for a first request, a repeat in the same process, and a repeat in
    another process (this one's memory emptied)."""
    calls = []
    for another_process in (False, False, True):
        if another_process:
            caching.local_store.clear()
        answer = get(front, path, **request)
        assert answer.status == 200, (path, request)
        calls.append(django_app.calls)
    return calls[1] - calls[0], calls[2] - calls[1]


@pytest.mark.parametrize(
    ("suffix", "request_headers"),
    [
        pytest.param("", {}, id="the-table"),
        pytest.param("", {"host": "testserver:80"}, id="with-the-servers-own-port"),
        pytest.param("api", {}, id="api-no-accept"),
        pytest.param("api", {"accept": "*/*"}, id="api-any"),
        pytest.param("api", {"accept": "application/json"}, id="api-json"),
    ],
)
def test_what_everybody_asks_alike_is_rendered_once_for_every_process(
    front, django_app, published, shared_cache, suffix, request_headers
):
    path = f"/api/v1/releases/{published.pk}/rows/" if suffix else published.get_absolute_url()
    assert asked_three_times(front, django_app, path, **request_headers) == (0, 0)
    assert len(shared_cache.entries) == 1


@pytest.mark.parametrize(
    ("suffix", "request_headers"),
    [
        pytest.param("?x=1", {}, id="invented-query"),
        pytest.param("?q=anything+at+all", {}, id="a-search"),
        pytest.param("?sort=-average", {}, id="a-sort"),
        pytest.param("", {"host": "testserver:8123"}, id="another-port"),
        pytest.param("", {"host": "any.example.org"}, id="a-wildcard-host"),
        pytest.param("api", {"accept": "application/json, text/x-invented-1"}, id="api-invented"),
        pytest.param("api?limit=5", {}, id="api-a-page"),
    ],
)
def test_what_a_client_makes_up_is_kept_only_in_the_process_that_rendered_it(
    front, django_app, published, shared_cache, settings, suffix, request_headers
):
    """A client inventing query strings, ports, hosts under a wildcard or Accept headers gets
    stored answers from this process's bounded memory, but never fills the Redis that the task
    queue and every other process share."""
    settings.ALLOWED_HOSTS = ["testserver", ".example.org"]
    if suffix.startswith("api"):
        path = f"/api/v1/releases/{published.pk}/rows/" + suffix.removeprefix("api")
    else:
        path = published.get_absolute_url() + suffix
    assert asked_three_times(front, django_app, path, **request_headers) == (0, 1)
    assert shared_cache.entries == {}
