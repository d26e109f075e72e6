"""Every role × every transition, allowed and refused: through the service functions, the
transition pages of the admin, and the admin actions on the release list."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from releases.models import Release, ReleaseTransition
from releases.services import lifecycle
from tests.releases.governance.conftest import later

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# transition → (the state it starts from, the state it leads to, the roles allowed to do it)
MATRIX: dict[str, tuple[str, str, set[str]]] = {
    "submit": (Status.DRAFT, Status.SUBMITTED, {"analyst", "superuser"}),
    "approve": (Status.SUBMITTED, Status.APPROVED, {"approver", "superuser"}),
    "return": (Status.SUBMITTED, Status.DRAFT, {"approver", "superuser"}),
    "schedule": (Status.APPROVED, Status.SCHEDULED, {"approver", "superuser"}),
    "publish": (Status.APPROVED, Status.PUBLISHED, {"approver", "superuser"}),
    "withdraw": (Status.PUBLISHED, Status.WITHDRAWN, {"approver", "superuser"}),
    "correct": (Status.PUBLISHED, Status.PUBLISHED, {"analyst", "superuser"}),
}
ROLES = ["analyst", "approver", "board member", "superuser"]
CASES = [(action, role) for action in MATRIX for role in ROLES]
ADMIN_ACTIONS = {
    "submit": "submit_for_approval",
    "approve": "approve",
    "return": "return_for_changes",
    "schedule": "schedule_publication",
    "publish": "publish_now",
    "withdraw": "withdraw",
}


def call(action: str, release: Release, user: Any) -> Release:
    match action:
        case "submit":
            return lifecycle.submit(release, user)
        case "approve":
            return lifecycle.approve(release, user)
        case "return":
            return lifecycle.return_for_changes(release, user, "Please check OF0084")
        case "schedule":
            return lifecycle.schedule(release, user, later())
        case "publish":
            return lifecycle.publish_now(release, user)
        case "withdraw":
            return lifecycle.withdraw(release, user, "Published in error")
        case "correct":
            return lifecycle.start_correction(release, user, "OF0084 was misreported")
    raise AssertionError(action)


def form_data() -> dict[str, str]:
    return {
        "reason": "Because a regulator says so",
        "at": timezone.localtime(later()).strftime("%Y-%m-%dT%H:%M"),
    }


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def assert_happened(action: str, release: Release, user: Any) -> None:
    release.refresh_from_db()
    assert release.status == MATRIX[action][1]
    entry = ReleaseTransition.objects.filter(release=release).latest()
    assert entry.user == user
    if action == "correct":
        correction = Release.objects.get(supersedes=release)
        assert correction.status == Status.DRAFT
        assert correction.revision == release.revision + 1


def assert_refused(action: str, release: Release) -> None:
    before = release.status
    release.refresh_from_db()
    assert release.status == before == MATRIX[action][0]
    assert not Release.objects.filter(supersedes=release).exists()


@pytest.mark.parametrize(("action", "role"), CASES)
def test_it_allows_or_refuses_each_transition_through_the_service(
    action: str, role: str, release: Release, roles: dict[str, Any], move: Callable
) -> None:
    move(release, MATRIX[action][0])
    user = roles[role]
    if role in MATRIX[action][2]:
        call(action, release, user)
        assert_happened(action, release, user)
    else:
        with pytest.raises(lifecycle.TransitionRefused, match="You do not have the right"):
            call(action, release, user)
        assert_refused(action, release)


@pytest.mark.parametrize(("action", "role"), CASES)
def test_it_allows_or_refuses_each_transition_on_the_admin_release_page(
    action: str, role: str, release: Release, roles: dict[str, Any], move: Callable
) -> None:
    move(release, MATRIX[action][0])
    client = admin_client(roles[role])
    url = reverse("admin:releases_release_transition", args=[release.pk, action])
    page = client.get(reverse("admin:releases_release_change", args=[release.pk]))
    response = client.post(url, form_data())
    if role in MATRIX[action][2]:
        # The button is offered, and pressing it works.
        assert url in page.content.decode()
        assert response.status_code == 302
        assert_happened(action, release, roles[role])
    else:
        assert url not in page.content.decode()
        if role == "board member":
            # Not staff: the admin sends a board member to sign in, and refuses that too.
            assert page.status_code == response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
        else:
            # Not offered, and refused by the server all the same when posted.
            assert response.status_code == 409
            assert "You do not have the right" in response.content.decode()
        assert_refused(action, release)


@pytest.mark.parametrize(("action", "role"), [c for c in CASES if c[0] in ADMIN_ACTIONS])
def test_it_allows_or_refuses_each_transition_as_an_admin_action(
    action: str, role: str, release: Release, roles: dict[str, Any], move: Callable
) -> None:
    move(release, MATRIX[action][0])
    client = admin_client(roles[role])
    changelist = reverse("admin:releases_release_changelist")
    data = {"action": ADMIN_ACTIONS[action], "_selected_action": [release.pk]}
    confirmation = client.post(changelist, data)
    response = client.post(changelist, {**data, "post": "yes", **form_data()})
    if role in MATRIX[action][2]:
        assert confirmation.status_code == 200
        assert "admin/adminkit/confirm_with_reason.html" in [t.name for t in confirmation.templates]
        assert response.status_code == 302
        assert_happened(action, release, roles[role])
    elif role == "board member":
        assert confirmation.status_code == response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
        assert_refused(action, release)
    else:
        # The action is not offered to this role, so the list answers "no action selected".
        assert (
            ADMIN_ACTIONS[action]
            not in client.get(changelist).context["action_form"].fields["action"].choices.__repr__()
        )
        assert_refused(action, release)
