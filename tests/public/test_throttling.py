"""The open API's rate limit (public/api/throttling.py): the configured number of requests per
client and period, a 429 with an honest Retry-After past it, a fresh allowance once the period
is over, and no refusal when the cache that counts is down."""

import os
import threading
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle

from public.api.throttling import AnonymousRateThrottle, Client, LocalTallies
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


class Process:
    """One web process's throttle: its own tallies, the shared cache, a rate, and the shared
    cache's operations counted."""

    def __init__(self, rate: str) -> None:
        self.tallies = LocalTallies()
        self.shared_calls = 0
        process = self

        class Throttle(AnonymousRateThrottle):
            tallies = self.tallies

            def _shared_count(self, key: str, requests: int) -> int | None:
                process.shared_calls += 1
                return super()._shared_count(key, requests)

        Throttle.rate = rate
        self.throttle_class = Throttle

    def allow(self, address: str = "192.0.2.30") -> bool:
        return self.throttle_class().allow_client(Client({"REMOTE_ADDR": address}))


def client_key(address: str = "192.0.2.30") -> str:
    """The client's count's key in the shared cache."""
    return AnonymousRateThrottle.cache_format % {"scope": "anon", "ident": address}


def shared_count(address: str = "192.0.2.30") -> int | None:
    return cache.get(client_key(address))


def test_a_client_well_inside_its_allowance_is_counted_in_the_shared_cache_in_batches():
    cache.clear()
    web = Process("10000/minute")  # a hundredth of it: 100 requests counted here at most
    assert all(web.allow() for _ in range(250))
    assert web.shared_calls == 3  # the 1st, the 102nd and the 203rd, each with the 100 before
    assert shared_count() == 203  # the 47 since are this process's own, for now
    cache.clear()


def test_a_process_adds_its_requests_to_the_shared_count_within_half_a_second(monkeypatch):
    cache.clear()
    monkeypatch.setattr("public.api.throttling.SYNC_SECONDS", 0.05)
    web = Process("10000/minute")
    for _ in range(5):
        web.allow()
    assert shared_count() == 1
    time.sleep(0.06)
    web.allow()
    assert shared_count() == 6
    cache.clear()


def test_near_its_limit_a_client_is_refused_on_the_shared_count():
    cache.clear()
    first, second = Process("200/minute"), Process("200/minute")  # 2 each counted locally
    allowed = [process.allow() for _ in range(150) for process in (first, second)]
    # Only a shared count refuses: the other process's last 2 requests at most are missed.
    assert 200 <= allowed.count(True) <= 202
    assert allowed[-20:] == [False] * 20
    cache.clear()


def test_a_small_limit_is_counted_exactly_on_every_request():
    cache.clear()
    web = Process("60/minute")
    assert [web.allow() for _ in range(62)] == [True] * 60 + [False] * 2
    assert web.shared_calls == 62
    cache.clear()


def test_one_process_never_lets_a_client_past_its_limit_on_its_own_count():
    cache.clear()
    web = Process("1000/minute")  # 10 requests counted here at most between shared counts
    allowed = [web.allow() for _ in range(1010)]
    assert allowed == [True] * 1000 + [False] * 10
    cache.clear()


def test_a_client_whose_window_has_closed_is_not_refused_on_this_process_s_own_count():
    cache.clear()
    web = Process("1000/minute")
    assert all(web.allow() for _ in range(995))
    # The window ends: a new one opens on the next shared count.
    cache.delete_many([client_key(), client_key() + ":start"])
    assert all(web.allow() for _ in range(20))
    assert shared_count() <= 30  # the 20, and at most 10 counted here just before it ended
    cache.clear()
