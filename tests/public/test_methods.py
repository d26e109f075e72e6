"""Every page, download, the feed and the sitemap can only be read: any other method gets 405
naming GET and HEAD, never the CSRF failure page nor the page itself. The routes are the
URLconf's own (test_leaks.public_routes), so a page added later is covered without edits."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.public.test_leaks import ROUTES, url_for

PAGES = [route for route in ROUTES if route.namespace == "public"]


@pytest.fixture
def strict_client() -> Client:
    # As a browser or script without a CSRF token meets the site.
    return Client(enforce_csrf_checks=True)


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES, ids=str)
def test_it_answers_a_write_with_405_naming_get_and_head(strict_client, published, route):
    url = url_for(route, published)
    assert strict_client.get(url).status_code == 200
    for method in ("post", "put", "patch", "delete", "trace"):
        response = getattr(strict_client, method)(url)
        assert response.status_code == 405, f"{method.upper()} {url}: {response.status_code}"
        assert response["Allow"] == "GET, HEAD"
        assert b"CSRF" not in response.content
        assert response["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES, ids=str)
def test_it_answers_options_with_allow_and_no_body(strict_client, published, route):
    response = strict_client.options(url_for(route, published))
    assert response.status_code == 200
    assert response["Allow"] == "GET, HEAD"
    assert response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize("route", [route for route in ROUTES if route.namespace == "api"], ids=str)
def test_every_api_address_answers_options_without_a_server_error(strict_client, published, route):
    """The API's own views answer OPTIONS with DRF's description; its docs page, which has no
    such description, with the Allow list. Never a 500."""
    response = strict_client.options(url_for(route, published))
    assert response.status_code == 200, (str(route), response.status_code)
    assert "GET" in response["Allow"]
