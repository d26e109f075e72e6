"""No URL of the public site or the API shows a release before it is published.

The routes are read from the URLconf, so a URL added later is tested without anyone adding it
here; a route with a parameter this file cannot fill fails, rather than escaping the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from releases.models import Release, TrustResult
from tests.public.conftest import SENTINELS, mark_with_sentinels, publish, set_status, withdraw

PUBLIC_NAMESPACES = ("public", "api")
HIDDEN_STATES = [
    (Release.Status.DRAFT, {}),
    (Release.Status.SUBMITTED, {"submitted_at": timezone.now()}),
    (Release.Status.APPROVED, {"approved_at": timezone.now()}),
    (Release.Status.SCHEDULED, {"scheduled_for": timezone.now() + timezone.timedelta(days=1)}),
]
WITHDRAWAL_REASON = "Withdrawn because the supplier resubmitted its data."


@dataclass(frozen=True)
class Route:
    namespace: str
    name: str
    parameters: tuple[str, ...]
    defaults: tuple[tuple[str, Any], ...]
    pattern: str

    def __str__(self) -> str:
        return self.pattern


def _parameters(pattern: Any) -> list[str]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def public_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns: list, namespace: str | None, prefix: str, inherited: list[str]) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(
                    entry.url_patterns,
                    entry.namespace or namespace,
                    prefix + str(entry.pattern),
                    inherited + _parameters(entry.pattern),
                )
            elif isinstance(entry, URLPattern) and namespace in PUBLIC_NAMESPACES:
                assert entry.name, f"unnamed public route {prefix}{entry.pattern}"
                routes.append(
                    Route(
                        namespace,
                        entry.name,
                        tuple(inherited + _parameters(entry.pattern)),
                        tuple(sorted(entry.default_args.items())),
                        prefix + str(entry.pattern),
                    )
                )

    walk(get_resolver().url_patterns, None, "/", [])
    return routes


ROUTES = public_routes()


def test_the_urlconf_walk_finds_every_kind_of_url():
    names = {f"{r.namespace}:{r.name}" for r in ROUTES}
    assert {
        "public:home",
        "public:league-table",
        "public:trust",
        "public:download",
        "public:releases-feed",
        "api:release-list",
        "api:release-detail",
        "api:release-rows",
        "api:trust-detail",
        "api:schema",
    } <= names


def url_for(route: Route, release: Release) -> str:
    trust = TrustResult.objects.filter(release=release).select_related("trust").first().trust
    samples: dict[str, Any] = {
        "peer_group": release.peer_group.slug,
        "quarter": release.quarter.slug,
        "revision": release.revision,
        "ods_code": trust.ods_code,
        "release_id": release.pk,
        "pk": release.framework_id if route.name.startswith("framework") else release.pk,
        "code": "OF0084",
    }
    missing = [p for p in route.parameters if p not in samples]
    assert not missing, f"{route}: no sample value for {missing}; add one to this test"
    kwargs = {p: samples[p] for p in route.parameters} | dict(route.defaults)
    url = reverse(f"{route.namespace}:{route.name}", kwargs=kwargs or None)
    if route.name == "compare":
        url += f"?trusts={trust.ods_code}"
    return url


def assert_no_numbers_of(response: Any, route: Route) -> None:
    body = b"".join(response) if response.streaming else response.content
    text = body.decode("utf-8", errors="replace")
    for sentinel in SENTINELS:
        assert sentinel not in text, f"{route} shows {sentinel} of an unpublished release"


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_unpublished_release_is_invisible(client, draft, route):
    release = mark_with_sentinels(draft)
    url = url_for(route, release)
    for status, fields in HIDDEN_STATES:
        set_status(release, status, **fields)
        cache.clear()
        response = client.get(url)
        assert response.status_code in (200, 404), f"{url} ({status}): {response.status_code}"
        assert_no_numbers_of(response, route)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_withdrawn_release_shows_only_its_notice(client, draft, route):
    release = mark_with_sentinels(draft)
    url = url_for(route, release)
    publish(release)
    client.get(url)  # cached while published: withdrawal must drop it
    withdraw(release, WITHDRAWAL_REASON)
    response = client.get(url)
    assert response.status_code in (200, 404, 410), f"{url}: {response.status_code}"
    assert_no_numbers_of(response, route)
    if route.name in ("league-table", "download"):
        assert response.status_code == 410
        assert WITHDRAWAL_REASON in response.content.decode()
    if route.name == "release-rows":
        # The open API's schema-valid request: 404 (not published any more) with the notice.
        assert response.status_code == 404
        assert response.json()["withdrawal_reason"] == WITHDRAWAL_REASON
    if route.name == "release-detail":
        data = response.json()
        assert data["status"] == "withdrawn"
        assert data["withdrawal_reason"] == WITHDRAWAL_REASON
        assert data["thresholds"] is None


@pytest.mark.django_db
def test_the_sentinels_do_show_once_published(client, draft):
    """Proves the leak tests would see the numbers if a page showed them."""
    release = publish(mark_with_sentinels(draft))
    trust = TrustResult.objects.filter(release=release).select_related("trust").first().trust
    assert "3.97" in client.get(release.get_absolute_url()).content.decode()
    assert "9876.5" in client.get(trust.get_absolute_url()).content.decode()
    assert "8765.4" in client.get(trust.get_absolute_url()).content.decode()
    assert "2.13579" in client.get("/methodology/").content.decode()
    assert "3.97" in client.get(f"/api/v1/releases/{release.pk}/rows/").content.decode()
