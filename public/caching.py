"""The public cache: published pages and API responses, kept until the next publication.

A published revision never changes, so what the public sees changes only when a release is
published (also a correction) or withdrawn. Every cache key carries a publication version; the
receivers below move it on at each of those events, and everything cached before is never read
again (the backend evicts it in its own time). Only responses built from visible releases are
stored, and only when they succeeded.

With Redis (REDIS_URL) the version is shared by every web process and worker; entries still
expire after SHARED_TIMEOUT, so query-string variants nobody asks for again do not pile up.
Local memory is per process, so there entries expire after LOCAL_MEMORY_TIMEOUT: a publication
made in another process (the scheduler, another web worker) shows within that time.

AppConfig.ready() must import this module so the receivers are connected in every process that
publishes (web, Celery workers), not only in those that have served a page.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response

from releases.signals import release_published, release_withdrawn

VERSION_KEY = "publication-version"
LOCAL_MEMORY_TIMEOUT = 60
SHARED_TIMEOUT = 24 * 60 * 60
# Browsers and proxies may keep a page this long; they revalidate with the ETag afterwards.
CACHE_CONTROL = "public, max-age=60"
CACHEABLE_STATUSES = (200, 410)


def entry_timeout() -> int:
    backend = settings.CACHES["default"]["BACKEND"]
    return LOCAL_MEMORY_TIMEOUT if backend.endswith("LocMemCache") else SHARED_TIMEOUT


@lru_cache(maxsize=1)
def namespace() -> str:
    """Keys of one database only: a scratch copy (a benchmark, a restore being checked) that
    shares the Redis server must never serve, or drop, the real site's pages."""
    database = settings.DATABASES["default"]
    where = f"{database.get('HOST', '')}:{database.get('PORT', '')}/{database['NAME']}"
    return "public:" + hashlib.sha256(where.encode()).hexdigest()[:12]


def publication_version() -> int:
    """The current publication version; a fresh one if the backend lost it."""
    key = f"{namespace()}:{VERSION_KEY}"
    version = cache.get(key)
    if version is None:
        # Time-based, so a counter evicted and recreated never meets keys it had before.
        cache.add(key, time.time_ns() // 1000, None)
        version = cache.get(key) or time.time_ns() // 1000
    return int(version)


def invalidate() -> None:
    """Forget everything cached for the public."""
    key = f"{namespace()}:{VERSION_KEY}"
    try:
        cache.incr(key)
    except ValueError:  # no version stored yet: the next read makes a fresh one
        cache.set(key, time.time_ns() // 1000, None)


@receiver(release_published, dispatch_uid="public-cache-on-publish")
@receiver(release_withdrawn, dispatch_uid="public-cache-on-withdraw")
def drop_public_cache(sender: Any, **kwargs: Any) -> None:
    invalidate()


def request_key(request: HttpRequest, kind: str, extra: str = "") -> tuple[str, str]:
    """(cache key, ETag) for a request under the current publication version."""
    version = publication_version()
    digest = hashlib.sha256(
        f"{request.get_host()}|{request.get_full_path()}|{extra}".encode()
    ).hexdigest()[:32]
    return f"{namespace()}:{kind}:{version}:{digest}", f'W/"{version:x}-{digest[:16]}"'


def _with_headers(request: HttpRequest, response: HttpResponseBase, etag: str) -> HttpResponseBase:
    if response.status_code == 200:
        response["ETag"] = etag
        conditional = get_conditional_response(request, etag=etag, response=response)
        if conditional is not response:
            conditional["Cache-Control"] = CACHE_CONTROL
            return conditional
    response["Cache-Control"] = CACHE_CONTROL
    return response


def cached_public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Cache a public view's whole response (pages, downloads, feeds) by URL and version."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        key, etag = request_key(request, "page")
        stored = cache.get(key)
        if stored is not None:
            status, content, headers = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return _with_headers(request, response, etag)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code in CACHEABLE_STATUSES and not response.streaming:
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() in ("content-type", "content-disposition", "link", "x-robots-tag")
            ]
            cache.set(key, (response.status_code, response.content, headers), entry_timeout())
        return _with_headers(request, response, etag)

    return wrapper
