"""The public site's own error pages: in its design, saying what to do, never Django's bare
"Not Found" or "Server Error"."""

from typing import Any

import pytest
from django.test import Client

from leaguetable import errors


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/no/such/page/", "/trusts/NOPE1/", "/league-tables/x/y/"])
def test_a_missing_page_is_the_sites_own_404(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body
    assert 'class="nhsuk-header"' in body
    assert 'href="/trusts/"' in body  # a way on: find a trust


@pytest.mark.django_db
def test_the_api_still_answers_a_missing_resource_in_json(client: Client) -> None:
    response = client.get("/api/v1/no-such-resource/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_500_page_renders_with_no_request_and_no_database(rf: Any) -> None:
    # Django renders 500.html without a request context, and perhaps with the database down.
    response = errors.server_error(rf.get("/"))

    assert response.status_code == 500
    body = response.content.decode()
    assert "Sorry, there is a problem with the service" in body
    assert 'class="nhsuk-header"' in body
