"""The open API's rate limit, counted with one atomic cache increment per request.

DRF's AnonRateThrottle keeps, per client, the list of its request times in the cache and reads
and rewrites the whole list on every request: at the default 6,000 a minute that is up to 6,000
floats pickled twice per request, more than serving a stored response costs (public/caching.py).
This throttle keeps the same limit as a counter per client and window instead: the window opens
with the client's first request and lasts the rate's period, every request in it is one
`incr`, and a client over the limit is told how long until the window closes (Retry-After).
A client can make at most the limit in any one window, so at most twice the limit across the
end of one window and the start of the next: the trade every counter-based limiter makes.

Like the rest of the portal it fails open: with the cache unreachable nothing is counted and
every request is allowed (leaguetable/cache.py).
"""

from __future__ import annotations

import time
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


class AnonymousRateThrottle(AnonRateThrottle):
    """AnonRateThrottle's scope, rate and client identity, counted per window (module doc)."""

    timer = time.time

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
        try:
            count = self.cache.incr(key)
        except ValueError:  # no window open (or it just closed): open one
            pass
        else:
            if count == 1:
                # Redis only: the window closed between Django's existence check and the
                # increment, which opened a new one without an expiry. Give it one.
                self._opened(key)
            return count
        if self.cache.add(key, 1, self.duration):
            self._opened(key)
            return 1
        try:  # another process opened it first
            return self.cache.incr(key)
        except ValueError:
            return None  # unreachable cache: fail open, as the cache module does

    def _opened(self, key: str) -> None:
        self.cache.touch(key, self.duration)
        self.cache.set(key + ":start", self.timer(), self.duration)

    def wait(self) -> float | None:
        return self.wait_seconds
