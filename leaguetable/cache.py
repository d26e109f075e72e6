"""The Redis cache, degrading to "no cache" while Redis is unreachable.

Nothing in the portal needs the cache to be right: published pages are read from the database
when the cache has nothing (public/caching.py), the API's throttle counts from an empty history,
sessions live in the database. So a Redis outage must cost speed, not availability: every
operation that cannot reach Redis answers as a miss (get → default, add → False, set → nothing),
the outage is logged once per process when it starts and once when it ends, and for
RETRY_AFTER_SECONDS after a failure the process does not try again, so a request never waits
on a dead server more than once every few seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0


class Outage:
    """Whether this process currently treats Redis as down, and since when."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_until = 0.0
        self.since: float | None = None

    def skipping(self) -> bool:
        return self.since is not None and time.monotonic() < self.down_until

    def failed(self, where: str, error: Exception) -> None:
        with self._lock:
            self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
            if self.since is None:
                self.since = time.monotonic()
                logger.warning(
                    "Cache unreachable at %s (%s): serving from the database until it is back",
                    where,
                    error,
                )

    def succeeded(self, where: str) -> None:
        if self.since is None:
            return
        with self._lock:
            if self.since is not None:
                logger.warning(
                    "Cache at %s reachable again after %.0f s", where, time.monotonic() - self.since
                )
                self.since = None


# INCRBY of a key that exists, else nil: Django's incr semantics, atomically.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class ResilientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._incr_script: Any = None
        self.outage = Outage()
        self._where = ", ".join(server.rsplit("@", 1)[-1] for server in servers)

    def _guard(self, operation: Callable[..., Any], fallback: Any, *args: Any) -> Any:
        if self.outage.skipping():
            return fallback
        try:
            result = operation(*args)
        except (self._lib.exceptions.ConnectionError, self._lib.exceptions.TimeoutError) as error:
            self.outage.failed(self._where, error)
            return fallback
        self.outage.succeeded(self._where)
        return result

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return self._guard(super().add, False, key, value, timeout)

    def get(self, key: Any, default: Any) -> Any:
        return self._guard(super().get, default, key, default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._guard(super().set, None, key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        return self._guard(super().touch, False, key, timeout)

    def delete(self, key: Any) -> bool:
        return self._guard(super().delete, False, key)

    def get_many(self, keys: Any) -> dict:
        return self._guard(super().get_many, {}, keys)

    def has_key(self, key: Any) -> bool:
        return self._guard(super().has_key, False, key)

    def incr(self, key: Any, delta: int) -> int:
        missing = object()
        result = self._guard(self._incr_existing, missing, key, delta)
        if result is missing:
            raise ValueError(f"Key {key!r} not found: the cache is unreachable")
        if result is None:
            raise ValueError(f"Key {key!r} not found.")
        return result

    def _incr_existing(self, key: Any, delta: int) -> int | None:
        """Django's incr (the key must exist) in one atomic round trip instead of two: the
        API's rate limit calls it on every request, and between Django's EXISTS and INCR a
        counter could expire and be recreated without an expiry."""
        client = self.get_client(key, write=True)
        # Django makes a new client object (on the same pool) for every operation: the script is
        # registered once and run on whichever client this operation has.
        if self._incr_script is None:
            self._incr_script = client.register_script(INCR_EXISTING)
        return self._incr_script(keys=[key], args=[delta], client=client)

    def set_many(self, data: Any, timeout: Any) -> None:
        self._guard(super().set_many, None, data, timeout)

    def delete_many(self, keys: Any) -> None:
        self._guard(super().delete_many, None, keys)

    def clear(self) -> bool:
        return self._guard(super().clear, False)

    def delete_matching(self, pattern: str) -> bool:
        return self._guard(self._delete_matching, False, pattern)

    def _delete_matching(self, pattern: str) -> bool:
        client = self.get_client(write=True)
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
        return True


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient

    def clear(self) -> bool:
        """Remove this cache's keys only (its KEY_PREFIX), not the whole Redis database that
        Django's clear flushes: Celery's results, another site or another test process may
        share it."""
        prefix = "".join("\\" + c if c in "*?[]\\^-" else c for c in self.key_prefix)
        return self._cache.delete_matching(f"{prefix}:*")
