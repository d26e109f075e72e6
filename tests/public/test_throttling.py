"""The open API's rate limit (public/api/throttling.py): the configured number of requests per
client and period, a 429 with an honest Retry-After past it, a fresh allowance once the period
is over, and no refusal when the cache that counts is down."""

import os
import threading

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle

from public.api.throttling import AnonymousRateThrottle, Client
from tests.public.test_caching import UNREACHABLE_REDIS

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/"


@pytest.fixture
def three_a_minute(monkeypatch):
    # AnonymousRateThrottle reads AnonRateThrottle's rates: the API_ANON_RATE setting.
    monkeypatch.setattr(
        AnonRateThrottle, "THROTTLE_RATES", {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"}
    )
    cache.clear()
    yield
    cache.clear()


REDIS = {"BACKEND": "leaguetable.cache.ResilientRedisCache", "LOCATION": os.getenv("REDIS_URL")}
LOCAL_MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


class Clock:
    """The throttle's clock and the local-memory cache's, moved forward by the test."""

    def __init__(self, monkeypatch, settings, start: float = 1_000_000.0) -> None:
        settings.CACHES = LOCAL_MEMORY
        self.now = start
        monkeypatch.setattr(AnonymousRateThrottle, "timer", staticmethod(lambda: self.now))
        monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: self.now)


def test_the_api_uses_it_with_the_configured_rate():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "public.api.throttling.AnonymousRateThrottle"
    ]
    throttle = AnonymousRateThrottle()
    assert throttle.rate == settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"]


def test_past_the_limit_a_429_says_when_to_come_back(
    client, published, three_a_minute, monkeypatch, settings
):
    clock = Clock(monkeypatch, settings)
    codes = [client.get(URL).status_code for _ in range(3)]
    clock.now += 20
    refused = client.get(URL)
    assert codes == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Request was throttled.")
    # The period opened with the first request, 20 s ago: 40 s of it are left.
    assert refused["Retry-After"] == "40"
    clock.now += 39
    assert client.get(URL).status_code == 429
    clock.now += 1.5
    assert client.get(URL).status_code == 200  # a new period, a new allowance


def test_each_client_has_its_own_allowance(client, published, three_a_minute):
    for _ in range(3):
        assert client.get(URL, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client.get(URL, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.get(URL, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_with_the_cache_down_nothing_is_refused(client, published, three_a_minute, settings):
    settings.CACHES = UNREACHABLE_REDIS
    assert [client.get(URL).status_code for _ in range(6)] == [200] * 6


class RacingCache:
    """A cache where the client's period ended between Redis's existence check and INCR: the
    increment opened a new counter, without an expiry."""

    def __init__(self) -> None:
        self.touched: dict[str, float] = {}
        self.stored: dict[str, float] = {}

    def incr(self, key: str, delta: int = 1) -> int:
        return 1

    def touch(self, key: str, timeout: float) -> bool:
        self.touched[key] = timeout
        return True

    def set(self, key: str, value: float, timeout: float) -> None:
        self.stored[key] = value


def test_a_counter_opened_by_a_racing_increment_still_expires():
    throttle = AnonymousRateThrottle()
    throttle.cache = RacingCache()
    assert throttle.allow_client(Client({"REMOTE_ADDR": "192.0.2.9"}))
    assert list(throttle.cache.touched.values()) == [throttle.duration]


@pytest.mark.skipif(not os.getenv("REDIS_URL"), reason="needs Redis, shared between processes")
def test_concurrent_requests_are_counted_exactly_in_redis(settings):
    settings.CACHES = {
        "default": {**REDIS, "KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "")}
    }
    cache.clear()
    allowed = []

    def requests() -> None:
        throttle_class = type("Fifty", (AnonymousRateThrottle,), {"rate": "50/minute"})
        for _ in range(25):
            allowed.append(throttle_class().allow_client(Client({"REMOTE_ADDR": "192.0.2.7"})))

    workers = [threading.Thread(target=requests) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cache.clear()
    assert len(allowed) == 100
    assert allowed.count(True) == 50  # DRF's read-modify-write list would let some through


@pytest.mark.skipif(not os.getenv("REDIS_URL"), reason="needs Redis")
def test_redis_increments_only_a_counter_that_exists_and_keeps_its_expiry(settings):
    settings.CACHES = {
        "default": {**REDIS, "KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "")}
    }
    cache.clear()
    with pytest.raises(ValueError):
        cache.incr("throttle-test")
    assert cache.get("throttle-test") is None  # not created by the failed increment
    cache.set("throttle-test", 1, 30)
    assert cache.incr("throttle-test") == 2
    assert cache.incr("throttle-test", 5) == 7
    client = cache._cache.get_client("x")
    assert 0 < client.ttl(cache.make_key("throttle-test")) <= 30
    cache.clear()


@pytest.mark.skipif(not os.getenv("REDIS_URL"), reason="needs Redis")
def test_clearing_the_cache_leaves_what_else_shares_the_redis_database(settings):
    settings.CACHES = {
        "default": {**REDIS, "KEY_PREFIX": "site-a*"},
        "other": {**REDIS, "KEY_PREFIX": "site-b"},
    }
    from django.core.cache import caches

    here, other = caches["default"], caches["other"]
    raw = here._cache.get_client(write=True)
    raw.set("celery-task-meta-test", b"kept", ex=30)
    here.set("page", "a", 30)
    other.set("page", "b", 30)
    assert here.clear()
    assert here.get("page") is None
    assert other.get("page") == "b"  # another process's keys: untouched
    assert raw.get("celery-task-meta-test") == b"kept"  # not Django's at all
    other.clear()
    raw.delete("celery-task-meta-test")


@pytest.mark.skipif(not os.getenv("REDIS_URL"), reason="needs Redis")
def test_counting_requests_holds_no_memory_per_request(settings):
    settings.CACHES = {
        "default": {**REDIS, "KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "")}
    }
    import gc

    from redis.commands.core import Script

    cache.set("throttle-leak", 0, 30)

    def scripts() -> int:
        gc.collect()
        # type(), not isinstance(): the heap can hold dead weak proxies, which raise on access
        return sum(type(thing) is Script for thing in gc.get_objects())

    cache.incr("throttle-leak")
    before = scripts()
    for _ in range(200):
        cache.incr("throttle-leak")
    assert scripts() == before  # one registered script, however many requests
    assert cache.get("throttle-leak") == 201
    cache.delete("throttle-leak")
