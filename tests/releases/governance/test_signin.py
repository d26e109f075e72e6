"""Sign-in hardening through the admin login: lockout after repeated failures, sessions that
expire, and staff status plus the role's permission for every admin page."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from leaguetable.roles import ANALYST
from tests.factories import user_with_role
from tests.releases.governance.conftest import PASSWORD


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
    )


def test_it_signs_a_regulator_in_through_the_admin_login(analyst: Any) -> None:
    client = Client()
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_it_locks_the_account_out_after_repeated_failures(analyst: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "analyst", "wrong password")
        assert response.status_code == 200  # the form again, with an error
    locked = sign_in(client, "analyst", "wrong password")
    assert locked.status_code == 429
    # Now even the right password is refused for the cool-off period.
    assert sign_in(client, "analyst", PASSWORD).status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302


def test_it_lets_another_account_sign_in_from_the_same_address(db: None) -> None:
    user_with_role("victim", ANALYST)
    user_with_role("colleague", ANALYST)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "victim", "wrong password")
    # Lockout is per username and address, so a colleague behind the same NAT is not locked.
    assert sign_in(Client(), "colleague", PASSWORD).status_code == 302


def test_it_expires_sessions(analyst: Any) -> None:
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert 0 < settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    client = Client()
    sign_in(client, "analyst", PASSWORD)
    assert client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


@pytest.mark.parametrize("is_staff", [False, True])
def test_it_keeps_users_without_staff_status_or_a_role_out_of_the_admin(
    db: None, is_staff: bool
) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("citizen", password=PASSWORD, is_staff=is_staff)
    client = Client()
    response = sign_in(client, "citizen", PASSWORD)
    if not is_staff:
        assert response.status_code == 200  # refused: "enter the correct username..."
        assert client.get(reverse("admin:index")).status_code == 302
    else:
        # Staff without a role sees an empty admin and no release.
        assert client.get(reverse("admin:releases_release_changelist")).status_code == 403
        assert client.get(reverse("admin:metrics_importrun_upload")).status_code == 403
