"""The open API's rate limit, counted with one atomic cache increment per request.

DRF's AnonRateThrottle keeps, per client, the list of its request times in the cache and reads
and rewrites the whole list on every request: at the default 6,000 a minute that is up to 6,000
floats pickled twice per request, more than serving a stored response costs (public/caching.py).
This throttle keeps the same limit as a counter per client and window instead: the window opens
with the client's first request and lasts the rate's period, every request in it is one
`incr`, and a client over the limit is told how long until the window closes (Retry-After).
A client can make at most the limit in any one window, so at most twice the limit across the
end of one window and the start of the next: the trade every counter-based limiter makes.

Counting every request in Redis is one round trip per API request, what a stored answer costs
most once the rest is in process memory (public/caching.py). So while a client is well inside
its allowance each web process counts its requests itself and adds them to the shared count in
one increment (LocalTallies): after at most a hundredth of the limit of them, or half a second,
whichever comes first, and always before a request could take the client past its limit. Only
a shared count refuses. Other processes see a client's count late by at most that hundredth per
process, so with P processes a client may get (P - 1) hundredths of its limit more; a limit
under 100 requests per period is counted in Redis on every request, exactly.

Like the rest of the portal it fails open: with the cache unreachable nothing is counted and
every request is allowed (leaguetable/cache.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from rest_framework.throttling import AnonRateThrottle


class EnvironHeaders:
    """The one header a throttle reads, from a WSGI environment, for the WSGI front."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), default)


class Client:
    """What `get_ident` reads of a request, without building one (the WSGI front)."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.META = environ
        self.headers = EnvironHeaders(environ)


# A process adds its own requests to the shared count after this many seconds at most...
SYNC_SECONDS = 0.5
# ...or after this fraction of the client's limit, whichever comes first.
LOCAL_SHARE = 100
# Clients a process keeps a tally for; past it, the tallies are started afresh.
MAX_TALLIES = 10_000


@dataclass(slots=True)
class Tally:
    shared: int  # the client's count in the shared cache when this process last added to it
    unsynced: int  # requests this process has allowed since, not yet in the shared count
    synced_at: float


class LocalTallies:
    """Per client, the requests this process has counted but not yet added to the shared count
    (module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[str, Tally] = {}

    def take(self, key: str, limit: int) -> int | None:
        """This request's number, counted here alone; None if it must be counted in the shared
        cache (no recent shared count, this process's share used up, or the limit is near)."""
        now = time.monotonic()
        with self._lock:
            tally = self._tallies.get(key)
            if (
                tally is None
                or tally.unsynced + 1 > limit // LOCAL_SHARE
                or now - tally.synced_at > SYNC_SECONDS
                or tally.shared + tally.unsynced + 1 > limit
            ):
                return None
            tally.unsynced += 1
            return tally.shared + tally.unsynced

    def flush(self, key: str) -> int:
        """The requests counted here since the last shared count, to add with this one."""
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                return 0
            unsynced, tally.unsynced = tally.unsynced, 0
            return unsynced

    def synced(self, key: str, shared: int) -> None:
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                if len(self._tallies) >= MAX_TALLIES:
                    self._tallies.clear()
                self._tallies[key] = Tally(shared, 0, time.monotonic())
            else:
                tally.shared, tally.synced_at = shared, time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._tallies.clear()


tallies = LocalTallies()


class AnonymousRateThrottle(AnonRateThrottle):
    """AnonRateThrottle's scope, rate and client identity, counted per window (module doc)."""

    timer = time.time
    tallies = tallies  # this process's

    def __init__(self) -> None:
        super().__init__()
        self.wait_seconds: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True  # as AnonRateThrottle: signed-in users are not counted here
        return self.allow_client(request)

    def allow_client(self, request: Any) -> bool:
        """Count one request of this client; False once it is over the limit."""
        if self.rate is None:
            return True
        key = self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        count = self._count(key)
        if count is None or count <= self.num_requests:
            return True
        started = self.cache.get(key + ":start")
        now = self.timer()
        self.wait_seconds = (
            max(0.0, started + self.duration - now) if started is not None else self.duration
        )
        return False

    def _count(self, key: str) -> int | None:
        """This request's number in the client's window; None when the cache cannot count."""
        number = self.tallies.take(key, self.num_requests)
        if number is not None:
            return number
        count = self._shared_count(key, 1 + self.tallies.flush(key))
        if count is not None:
            self.tallies.synced(key, count)
        return count

    def _shared_count(self, key: str, requests: int) -> int | None:
        """Add `requests` to the client's count in the shared cache; the count after it."""
        try:
            count = self.cache.incr(key, requests)
        except ValueError:  # no window open (or it just closed): open one
            pass
        else:
            if count == requests:
                # Redis only: the window closed between Django's existence check and the
                # increment, which opened a new one without an expiry. Give it one.
                self._opened(key)
            return count
        if self.cache.add(key, requests, self.duration):
            self._opened(key)
            return requests
        try:  # another process opened it first
            return self.cache.incr(key, requests)
        except ValueError:
            return None  # unreachable cache: fail open, as the cache module does

    def _opened(self, key: str) -> None:
        self.cache.touch(key, self.duration)
        self.cache.set(key + ":start", self.timer(), self.duration)

    def wait(self) -> float | None:
        return self.wait_seconds
