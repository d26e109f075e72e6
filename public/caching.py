"""The public cache: each published page, download and API response rendered once, then served
as stored bytes, and never one moment after what it shows stops being public.

Safety first. Every cache key carries the *publication generation*, read from the database at
the start of the same request (`generation()`): a fingerprint of which releases are visible and
in which state, and of the audit trails of everything else a public page shows (trust names,
frameworks, metric definitions, thresholds, imports, public support and freedoms). A
publication, withdrawal or correction changes it in the same transaction as the change itself,
so the first request after the commit looks for keys nobody has stored and renders from the
database. Nothing is ever deleted or invalidated: no cache operation has to succeed for a
withdrawal to take effect, and an entry stored under an old generation is simply never read
again (Redis expires it, the process memory evicts it; either way every entry is rendered again
after REFRESH_SECONDS). The generation is read *before* the view runs, so a response is never
stored under a generation newer than the data it was rendered from.

On PostgreSQL a web process trusts the generation it read for PUBLIC_GENERATION_LEASE (20 ms)
instead of asking on every request, and a publication or withdrawal waits that long after its
commit before it reports done, so every request after it still sees it (GenerationLease).

Then speed. A cacheable view is marked with `cached_public` (pages, downloads, the feed) or
declares `public_cache_vary` (API views, which vary on `Accept`); PublicCacheMiddleware, placed
before sessions, authentication and CSRF, answers repeated requests from:

1. this process's memory (LocalStore, bounded in bytes), then
2. the shared cache (Redis in production), so each response is rendered once for all processes,
3. else the view, whose response (bytes, headers, a gzip and a brotli copy) is stored in both;
   requests of this process that miss the same key meanwhile wait for it (OneRenderAtATime).

Stored responses carry a content ETag (304 on a matching If-None-Match), `Vary: Accept-Encoding`
and CACHE_CONTROL, which lets browsers and the nginx front (deploy/nginx) keep them only a few
seconds before revalidating, because a published table can be withdrawn.

Only responses that cannot depend on who asks are stored: 200 or 410, not streamed, no cookie
set, no `Vary: Cookie`, nothing marked private.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Any, TypeVar

import brotli
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIRequest, get_path_info
from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import split_domain_port
from django.urls import Resolver404, get_resolver
from django.utils.cache import cc_delim_re
from django.utils.http import parse_etags
from rest_framework.views import APIView

from metrics.models import ImportRun
from public.api.throttling import AnonymousRateThrottle, Client
from releases.models import Release

# A withdrawal reaches every browser and proxy within this many seconds; the deploy/ nginx
# cache turns a burst of requests for one page into one revalidation per page per interval.
CACHE_CONTROL = "public, max-age=5, must-revalidate"
CACHEABLE_STATUSES = (200, 410)
# Every stored response is rendered again after this long, here and in Redis: reference data
# without an audit trail (region and peer group names, domains, context measures edited by
# hand) reaches the public within 10 minutes, and past generations' entries make way.
REFRESH_SECONDS = 600
LOCAL_BYTES = 64 * 1024 * 1024
MIN_COMPRESSED_SIZE = 1024
COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/atom+xml")
# Headers that are rebuilt for each response, or that belong to one client's request.
NOT_STORED = {
    "content-length",
    "content-encoding",
    "etag",
    "cache-control",
    "expires",
    "last-modified",
    "date",
    "vary",
    "set-cookie",
}

View = TypeVar("View", bound=Callable[..., Any])


def cached_public(view: View) -> View:
    """Mark a public view whose response depends only on its URL and the published data."""
    view.public_cache_vary = ()  # type: ignore[attr-defined]
    return view


# The generation -----------------------------------------------------------------------------

# Models a public page shows whose every change writes a simple-history row in its own
# transaction. The trust page's public support and freedoms come from interventions, which the
# public site reads when it is installed.
AUDITED = (
    "releases.Release",
    "trusts.Trust",
    "metrics.Framework",
    "metrics.Metric",
    "metrics.MetricDefinition",
    "metrics.Thresholds",
    "interventions.FreedomType",
    "interventions.FreedomGrant",
    "interventions.SupportPlan",
)


@lru_cache(maxsize=1)
def _generation_sql() -> str:
    release = Release._meta.db_table
    statuses = [str(status) for status in Release.PUBLIC_STATUSES]
    # Written into the SQL, not passed as parameters: the query runs on every public request,
    # and these are the model's own status names, never anything a request carries.
    assert all(status.isidentifier() for status in statuses), statuses
    listed = ", ".join(f"'{status}'" for status in statuses)
    parts = [
        # Public statuses only grow or move forward (published → superseded or withdrawn),
        # so each status's count and id sum change whenever what the public sees of releases
        # does, whichever code path changed it.
        f"SELECT status, COUNT(*), SUM(id) FROM {release} "
        f"WHERE status IN ({listed}) GROUP BY status"
    ]
    for label in AUDITED:
        app_label, _, model_name = label.partition(".")
        if not apps.is_installed(app_label):
            continue
        history = apps.get_model(app_label, model_name).history.model._meta.db_table
        parts.append(f"SELECT '{history}', MAX(history_id), 0 FROM {history}")
    # An import finishes (and its data lands) in one transaction: context measures included.
    parts.append(f"SELECT 'imports', COUNT(finished_at), 0 FROM {ImportRun._meta.db_table}")
    return " UNION ALL ".join(parts) + " ORDER BY 1"


class GenerationLease:
    """The generation as this process last read it, trusted for PUBLIC_GENERATION_LEASE
    seconds from the moment its query was sent, instead of one database round trip per request.

    Why no request can miss a publication or withdrawal that has reported done: each waits the
    lease after its commit before it does (`wait_for_leases`, on the release signals). A value
    still trusted at that moment had its query sent less than a lease before, so after the
    commit, and it saw the change. A change made any other way (an admin edit of a trust's
    name, an import, SQL typed by hand) is seen within one lease. Of two reads that overlap,
    the one sent later is kept, so an older answer arriving last never replaces a newer one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (trusted until, value), replaced whole, so a thread never pairs one read's value with
        # another's time.
        self._entry = (0.0, "")

    def get(self, read: Callable[[], str]) -> str:
        seconds = settings.PUBLIC_GENERATION_LEASE
        if seconds <= 0:
            return read()
        sent = time.monotonic()
        until, value = self._entry
        if sent < until:
            return value
        value = read()
        with self._lock:
            if sent + seconds > self._entry[0]:
                self._entry = (sent + seconds, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._entry = (0.0, "")


lease = GenerationLease()


def wait_for_leases() -> None:
    """Wait until no web process trusts a generation read before this moment (called after a
    commit that changes what the public sees, before that change is reported done)."""
    if settings.PUBLIC_GENERATION_LEASE > 0:
        time.sleep(settings.PUBLIC_GENERATION_LEASE)


def generation() -> str:
    """The publication generation: read from the database, or trusted from a read less than
    PUBLIC_GENERATION_LEASE seconds old (GenerationLease)."""
    return lease.get(_read_now)


def _read_now() -> str:
    """The publication generation, read now: one query.

    It runs on the driver's own cursor: Django's wrapper (query logging hooks, parameter
    rewriting) would cost more than the query itself on every public request.
    """
    # As Django's own cursor does: a connection the server dropped fails its health check and
    # is replaced here, not answered with an error page.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return _read_generation(connection)


def front_generation() -> str:
    """generation() for the WSGI front, which runs outside Django's request cycle."""
    return lease.get(_front_read_now)


def _front_read_now() -> str:
    """_read_now() for the WSGI front.

    It keeps the connection as Django's request signals would (dropped past its age, or after
    an error it did not recover from), but skips the health check's round trip: a connection the
    server dropped fails the generation query itself, and is replaced and asked once more.
    """
    database = connections[DEFAULT_DB_ALIAS]
    if not database.in_atomic_block:  # a server calls it outside any; a test may not
        database.close_if_unusable_or_obsolete()
    try:
        database.ensure_connection()
        with database.wrap_database_errors:
            return _read_generation(database)
    except (OperationalError, InterfaceError):
        if database.in_atomic_block:
            raise
        database.close()
    database.ensure_connection()
    with database.wrap_database_errors:
        return _read_generation(database)


class SQLiteChanges:
    """Whether an SQLite file changed since a connection last worked out the generation.

    Two counters say it: the file's own change counter for commits by any connection (in the
    rollback-journal mode SQLite uses by default, every write transaction increments the 4 bytes
    at offset 24 of the file's header before it releases its lock; in WAL mode, marked by a 2 at
    offset 18, the counter stands still and `PRAGMA data_version` is asked instead), and the
    connection's total_changes for the rows it changed itself. Reading the header is one pread,
    without a lock: a request that reads a counter mid-commit works the generation out with a
    query, which waits for the commit, so it is never older than the counter it is kept with.
    """

    def __init__(self, raw: Any, path: str) -> None:
        self.raw = raw
        self.cursor = raw.cursor()
        self.file = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self.file)
        self.seen: tuple[Any, ...] | None = None
        self.generation = ""

    def state(self) -> tuple[Any, ...]:
        header = os.pread(self.file, 10, 18)
        if header[:1] == b"\x02":  # WAL: commits show in the WAL index, not the header
            return (
                self.cursor.execute("PRAGMA data_version").fetchone()[0],
                self.raw.total_changes,
            )
        return (header[6:], self.raw.total_changes)


def _read_generation(database: BaseDatabaseWrapper) -> str:
    """The generation on `database`'s connection. On an SQLite file it is worked out again only
    when the file changed since this connection last did (SQLiteChanges), which costs one read
    of the file's header instead of the generation's dozen aggregates. (Not on the tests'
    in-memory database, which has no file.)
    """
    raw = database.connection
    if database.vendor == "sqlite" and not database.is_in_memory_db():
        changes = getattr(database, "_public_generation", None)
        if changes is None or changes.raw is not raw:
            changes = SQLiteChanges(raw, database.settings_dict["NAME"])
            database._public_generation = changes
        state = changes.state()
        if state != changes.seen:
            changes.generation = _digest(changes.cursor.execute(_generation_sql()).fetchall())
            changes.seen = state
        return changes.generation
    if database.vendor == "postgresql":
        return _digest(_prepared_rows(raw, _generation_sql()))
    cursor = raw.cursor()
    try:
        cursor.execute(_generation_sql())
        return _digest(cursor.fetchall())
    finally:
        cursor.close()


def _prepared_rows(raw: Any, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` through a statement PostgreSQL prepared once for this connection.

    Planning the generation's dozen aggregates costs PostgreSQL three times what running them
    does (measured: 0.74 ms a request unprepared, 0.21 ms prepared, 0.10 ms for `SELECT 1`).
    Django turns prepared statements off, for connection poolers in transaction mode (which
    the production layout does not use), and its cursors bind parameters on the client, which
    never prepares; so this one query goes through psycopg's own cursor with preparing allowed
    for the moment it runs. psycopg keeps the statement and reuses it on this connection.
    """
    import psycopg

    threshold = raw.prepare_threshold
    raw.prepare_threshold = 0
    try:
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        raw.prepare_threshold = threshold


def _digest(rows: list[tuple[Any, ...]]) -> str:
    return hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()


@lru_cache(maxsize=1)
def namespace() -> str:
    """Keys of one database only: a scratch copy (a benchmark, a restore being checked) that
    shares the Redis server must never serve the real site's pages."""
    database = settings.DATABASES["default"]
    where = f"{database.get('HOST', '')}:{database.get('PORT', '')}/{database['NAME']}"
    return "public:" + hashlib.sha256(where.encode()).hexdigest()[:12]


# Stored responses -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stored:
    """A response as the public gets it, with its compressed copies."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    gzip: bytes | None
    brotli: bytes | None
    etag: str

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzip or b"") + len(self.brotli or b"")

    @classmethod
    def of(cls, response: HttpResponse) -> Stored:
        body = response.content
        content_type = response.get("Content-Type", "")
        compressed_gzip = compressed_brotli = None
        if len(body) >= MIN_COMPRESSED_SIZE and content_type.startswith(COMPRESSIBLE):
            compressed_gzip = gzip.compress(body, compresslevel=6, mtime=0)
            compressed_brotli = brotli.compress(body, quality=BROTLI_QUALITY)
        headers = tuple(
            (name, value) for name, value in response.items() if name.lower() not in NOT_STORED
        )
        etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return cls(response.status_code, headers, body, compressed_gzip, compressed_brotli, etag)

    def answer(
        self, vary: Iterable[str], if_none_match: str | None, accept_encoding: str, head: bool
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body for one client: a 304 for a matching ETag, else the
        encoding it accepts (brotli, then gzip, else none)."""
        vary_on = [*vary, "Accept-Encoding"] if self.gzip is not None else list(vary)
        if self.status == 200 and _etag_matches(if_none_match, self.etag):
            status, headers, body = 304, [], b""
        else:
            encoding, body = self._body_for(accept_encoding)
            status, headers = self.status, list(self.headers)
            if encoding:
                headers.append(("Content-Encoding", encoding))
            headers.append(("Content-Length", str(len(body))))
            if head:
                body = b""
        if self.status == 200:
            headers.append(("ETag", self.etag))
        headers.append(("Cache-Control", CACHE_CONTROL))
        if vary_on:
            headers.append(("Vary", ", ".join(vary_on)))
        return status, headers, body

    def respond(self, request: HttpRequest, vary: Iterable[str]) -> HttpResponse:
        status, headers, body = self.answer(
            vary,
            request.headers.get("If-None-Match"),
            request.headers.get("Accept-Encoding", ""),
            request.method == "HEAD",
        )
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response

    def _body_for(self, accept_encoding: str) -> tuple[str, bytes]:
        if self.gzip is None or not accept_encoding:
            return "", self.body
        encoding = preferred_encoding(accept_encoding)
        if encoding == "br" and self.brotli is not None:
            return "br", self.brotli
        if encoding:
            return "gzip", self.gzip
        return "", self.body


# Quality 5 compresses a 250 KB table page in a few milliseconds to within a few per cent of the
# best brotli can do; 11 would take most of a second on the request that renders it.
BROTLI_QUALITY = 5


@lru_cache(maxsize=256)
def preferred_encoding(header: str) -> str:
    """ "br", "gzip" or "" (none) for an Accept-Encoding header, by the client's q-values: the
    higher one wins and brotli a tie; `*` stands for any coding not named; q=0 refuses one.
    A malformed q-value refuses its coding. Remembered per header: browsers send a handful."""
    named: dict[str, float] = {}
    for item in header.split(","):
        name, *parameters = item.split(";")
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                if not 0 <= quality <= 1:
                    quality = 0.0
        name = name.strip().lower()
        if name == "x-gzip":
            name = "gzip"
        named[name] = max(quality, named.get(name, 0.0))
    anything = named.get("*", 0.0)
    brotli_q = named.get("br", anything)
    gzip_q = named.get("gzip", anything)
    if brotli_q <= 0 and gzip_q <= 0:
        return ""
    return "br" if brotli_q >= gzip_q else "gzip"


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in parse_etags(header)}


class LocalStore:
    """This process's copy of stored responses, least recently used first out, bounded in bytes.

    Safe to keep as long as memory allows: keys carry the generation, so nothing here can be
    served once what it shows has changed.
    """

    def __init__(self, budget: int, lifetime: float) -> None:
        self.budget = budget
        self.lifetime = lifetime
        self.used = 0
        self._entries: OrderedDict[str, tuple[float, Stored]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Stored | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                self.used -= entry[1].size
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, stored: Stored) -> None:
        if stored.size > self.budget // 4:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.used -= previous[1].size
            self._entries[key] = (time.monotonic() + self.lifetime, stored)
            self.used += stored.size
            while self.used > self.budget:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.used -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.used = 0


local_store = LocalStore(LOCAL_BYTES, REFRESH_SECONDS)


def clear() -> None:
    """Forget every stored response and API count, here and in the shared cache (tests,
    operators)."""
    local_store.clear()
    lease.forget()
    AnonymousRateThrottle.tallies.clear()
    cache.clear()


# One render at a time --------------------------------------------------------------------

# A request that finds another thread of this process rendering the same response waits this
# long for it, at most, and then renders itself.
RENDER_WAIT_SECONDS = 10.0


class OneRenderAtATime:
    """Requests of one process that miss the same key while it is being rendered wait for that
    render and are answered from what it stored, instead of each rendering it again.

    The moment a publication goes out is when this matters: its generation is new, nothing is
    stored under it, and the new table's page is what everyone asks for at once. Without this,
    every request arriving during the first render renders too, each taking a thread and the CPU
    the others need, so the first answers take several times as long. A request that waited and
    still finds nothing (the leader's response could not be stored, or it failed, or the wait
    ran out) renders for itself, so a failure is never shared and nothing waits twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rendering: dict[str, threading.Event] = {}

    def lead(self, key: str) -> threading.Event | None:
        """An event to set when done, if this request is to render `key`; None after waiting
        for the request that is already rendering it."""
        with self._lock:
            rendering = self._rendering.get(key)
            if rendering is None:
                done = self._rendering[key] = threading.Event()
                return done
        rendering.wait(RENDER_WAIT_SECONDS)
        return None

    def done(self, key: str, event: threading.Event) -> None:
        with self._lock:
            del self._rendering[key]  # only its leader registers a key, and only it removes it
        event.set()


renders = OneRenderAtATime()


# The middleware -----------------------------------------------------------------------------

MAX_REMEMBERED_PATHS = 10_000


@dataclass(frozen=True, slots=True)
class Policy:
    """How a cacheable view's responses are keyed, and the API view whose throttles still
    apply to stored responses (a rate limit that a repeated URL escaped would be no limit)."""

    vary: tuple[str, ...]
    throttled_view: type | None
    # For each header in `vary`, the values (besides none) whose responses are everybody's.
    shared_values: tuple[frozenset[str], ...]


_policies: dict[str, Policy | None] = {}


def policy_for(path: str) -> Policy | None:
    """The caching policy of the view at `path`; None if its responses are not cacheable.

    Resolved once per path and remembered (bounded: a crawler inventing paths only makes this
    forget and resolve again).
    """
    try:
        return _policies[path]
    except KeyError:
        pass
    policy = None
    try:
        view = get_resolver().resolve(path).func
    except Resolver404:
        pass
    else:
        view_class = getattr(view, "cls", None)
        vary = getattr(view, "public_cache_vary", getattr(view_class, "public_cache_vary", None))
        if vary is not None:
            throttled = view_class if getattr(view_class, "throttle_classes", None) else None
            shared = getattr(view_class, "public_cache_shared_values", {})
            policy = Policy(
                tuple(vary),
                throttled,
                tuple(frozenset(value.lower() for value in shared.get(name, ())) for name in vary),
            )
    if len(_policies) >= MAX_REMEMBERED_PATHS:
        _policies.clear()
    _policies[path] = policy
    return policy


def throttled(request: HttpRequest, view_class: type) -> HttpResponse | None:
    """The API's 429 if the view's throttles refuse this request, as DRF would answer it."""
    from rest_framework.request import Request

    view = view_class()
    api_request = Request(request)
    view.request = api_request
    return _refusal(
        [
            throttle.wait()
            for throttle in view.get_throttles()
            if not throttle.allow_request(api_request, view)
        ]
    )


def throttled_client(environ: dict[str, Any], view_class: type) -> HttpResponse | None:
    """throttled() for the WSGI front, from the environment. The open API's views authenticate
    nobody and count every client as anonymous (public/api/throttling.py), so that is counted
    without building a request; any other throttle gets the request DRF would give it."""
    classes = view_class.throttle_classes
    if (
        view_class.authentication_classes
        or view_class.get_throttles is not APIView.get_throttles
        or not all(issubclass(throttle, AnonymousRateThrottle) for throttle in classes)
    ):
        return throttled(WSGIRequest(environ), view_class)
    client = Client(environ)
    throttles = [throttle() for throttle in classes]
    return _refusal(
        [throttle.wait() for throttle in throttles if not throttle.allow_client(client)]
    )


def _refusal(waits: list[float | None]) -> HttpResponse | None:
    from rest_framework.exceptions import Throttled

    if not waits:
        return None
    wait = max((w for w in waits if w is not None), default=None)
    refusal = Throttled(wait)
    response = HttpResponse(
        json.dumps({"detail": str(refusal.detail)}),
        status=refusal.status_code,
        content_type="application/json",
    )
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    return response


def storable(response: HttpResponseBase) -> bool:
    if response.status_code not in CACHEABLE_STATUSES or response.streaming or response.cookies:
        return False
    vary = {value.strip().lower() for value in cc_delim_re.split(response.get("Vary", ""))}
    cache_control = response.get("Cache-Control", "").lower()
    personal = "private" in cache_control or "no-store" in cache_control
    return "cookie" not in vary and not personal


def personal(response: HttpResponseBase) -> HttpResponseBase:
    """Whatever the public cache does not store (the trust area's embargoed previews, sign-in,
    a 404) no shared cache may keep either, unless the view said otherwise."""
    if "Cache-Control" not in response:
        response["Cache-Control"] = "private"
    return response


def lookup(key: str, environ: dict[str, Any], policy: Policy) -> Stored | None:
    """The stored response under `key`: this process's memory, then, if the request is one
    everybody makes alike, the shared cache."""
    stored = local_store.get(key)
    if stored is None and shared(environ, policy):
        stored = cache.get(key)
        if stored is not None:
            local_store.put(key, stored)
    return stored


def shared(environ: dict[str, Any], policy: Policy) -> bool:
    """Whether a request's response belongs in the shared cache: only when nothing in its key
    was chosen by the client, so what Redis holds is bounded by what is published.

    A query string (filters, a search, pages of the API, or anything invented), a host allowed
    by a wildcard or with another port, or a varying header with a value the view did not name
    (an `Accept` header of the client's own making) still gets stored bytes, but only in this
    process's memory, which is bounded in bytes: a client inventing addresses can make the
    portal render, as any dynamic site would, but cannot fill the Redis that the task queue
    and every other process share.
    """
    if environ.get("QUERY_STRING"):
        return False
    for name, values in zip(policy.vary, policy.shared_values, strict=True):
        value = _header(environ, name)
        if value and value.strip().lower() not in values:
            return False
    domain, port = split_domain_port(_host(environ, _scheme(environ)))
    exact = {host.lower() for host in settings.ALLOWED_HOSTS if not host.startswith(".")}
    return domain in exact and port in ("", str(environ.get("SERVER_PORT", "")))


def _header(environ: dict[str, Any], name: str) -> str:
    """A request header from the WSGI environment, as sent ("" when absent)."""
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def _scheme(environ: dict[str, Any]) -> str:
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header and environ.get(proxy_header[0]) == proxy_header[1]:
        return "https"
    return environ.get("wsgi.url_scheme", "http")


def _host(environ: dict[str, Any], scheme: str) -> str:
    """The host as the client sent it, read as Django reads it."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return environ["HTTP_X_FORWARDED_HOST"]
    if "HTTP_HOST" in environ:
        return environ["HTTP_HOST"]
    # The port only when it is not the scheme's own.
    host, port = environ.get("SERVER_NAME", ""), str(environ.get("SERVER_PORT", ""))
    return host if port == ("443" if scheme == "https" else "80") else f"{host}:{port}"


def request_key(environ: dict[str, Any], vary: tuple[str, ...], current: str) -> str:
    """The key of a request's stored response, from the WSGI environment as the client sent it.

    The host and path are taken as sent, not as Django would validate them: a response is only
    ever stored by a request that Django accepted (an unknown host, a malformed address or a
    redirect to HTTPS is not a storable answer), so a key built from anything else is a miss.
    """
    scheme = _scheme(environ)
    host = _host(environ, scheme)
    varying = "|".join(f"{name}={_header(environ, name)}" for name in vary)
    where = (
        f"{scheme}://{host}{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
        f"|{varying}"
    )
    digest = hashlib.blake2b(where.encode("utf-8", "surrogateescape"), digest_size=16)
    return f"{namespace()}:{current}:{digest.hexdigest()}"


class PublicCacheMiddleware:
    """Serve cacheable public GETs from stored bytes, before sessions, authentication and CSRF
    are even looked at; store what the views render the first time."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        policy = policy_for(request.path_info)
        if policy is None:
            return personal(self.get_response(request))
        key = request_key(request.META, policy.vary, generation())
        stored = lookup(key, request.META, policy)
        if stored is None:
            leading = renders.lead(key)
            try:
                # Whether it waited or leads, another request may have stored it just now.
                stored = lookup(key, request.META, policy)
                if stored is None:
                    return self.render(request, policy, key)
            finally:
                if leading is not None:
                    renders.done(key, leading)
        if policy.throttled_view is not None:
            refusal = throttled(request, policy.throttled_view)
            if refusal is not None:
                return refusal
        return stored.respond(request, policy.vary)

    def render(self, request: HttpRequest, policy: Policy, key: str) -> HttpResponseBase:
        response = self.get_response(request)
        if not storable(response):
            return personal(response)
        stored = Stored.of(response)
        local_store.put(key, stored)
        if shared(request.META, policy):
            cache.set(key, stored, REFRESH_SECONDS)
        return stored.respond(request, policy.vary)


class StoredResponses:
    """WSGI front of the portal: a repeated public GET is answered from stored bytes before
    Django builds a request, runs a middleware or opens a session: what costs most per request
    once a published page has been rendered.

    It answers exactly what PublicCacheMiddleware would (the same key, under the generation
    read in this request, the API's rate limit counted the same way) and nothing else: a miss or
    any failure goes to Django unchanged, which renders, stores or fails as it always does.
    """

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "GET" or method == "HEAD":
            answer = self.stored_answer(environ)
            if answer is not None:
                status, headers, body = answer
                start_response(f"{status} {HTTPStatus(status).phrase}", headers)
                return [body]
        return self.application(environ, start_response)

    @staticmethod
    def stored_answer(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        try:
            policy = policy_for(get_path_info(environ))
            if policy is None:
                return None
            stored = lookup(request_key(environ, policy.vary, front_generation()), environ, policy)
            if stored is None:
                return None
            if policy.throttled_view is not None:
                # The API's rate limit counts stored answers too, as the middleware does.
                refusal = throttled_client(environ, policy.throttled_view)
                if refusal is not None:
                    return refusal.status_code, list(refusal.items()), refusal.content
        except Exception:  # Django's own path answers, and reports the fault
            return None
        return stored.answer(
            policy.vary,
            environ.get("HTTP_IF_NONE_MATCH"),
            environ.get("HTTP_ACCEPT_ENCODING", ""),
            environ.get("REQUEST_METHOD") == "HEAD",
        )
