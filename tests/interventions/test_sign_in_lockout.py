"""A locked-out sign-in gets a page that says so, for how long and whom to ask, in the layout of
the sign-in it came from, with Retry-After; the lockout itself is django-axes' as before."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from leaguetable import roles
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # tests.factories.user_with_role's


def _lock_out(client: Client, url: str, username: str) -> Any:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"username": username, "password": "wrong"}).status_code == 200
    return client.post(url, {"username": username, "password": "wrong"})


@pytest.mark.parametrize("minutes", [30, 5])
def test_a_board_member_locked_out_of_the_trust_area_is_told_for_how_long_and_whom_to_ask(
    settings: Any, minutes: int
) -> None:
    settings.AXES_COOLOFF_TIME = minutes / 60
    user_with_role("board", roles.BOARD_MEMBER)
    client = Client()
    url = reverse("trust_area:login")

    locked = _lock_out(client, url, "board")
    still = client.post(url, {"username": "board", "password": PASSWORD})

    for response in (locked, still):
        assert response.status_code == 429
        assert response["Retry-After"] == str(minutes * 60)
        body = response.content.decode()
        assert "Your account is locked" in body
        assert f"locked for {minutes} minutes" in body
        assert "ask your trust's contact at the regulator" in body
        assert 'class="ta-bar"' in body and "nhsuk-header" in body  # the trust area's layout
    assert client.get(reverse("trust_area:home")).status_code == 302  # still signed out


def test_a_regulator_locked_out_of_the_admin_gets_the_admins_page(db: None) -> None:
    user_with_role("analyst", roles.ANALYST)
    client = Client()

    locked = _lock_out(client, reverse("admin:login"), "analyst")

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(round(settings.AXES_COOLOFF_TIME * 3600))
    body = locked.content.decode()
    assert "Your account is locked" in body
    assert "NHS trust league tables: regulators" in body  # the admin's own header
    assert "portal administrator" in body
    assert client.get(reverse("admin:index")).status_code == 302
