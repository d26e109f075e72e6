"""A list action a regulator's role is not offered, posted anyway, is refused with the reason
and kept among the refused attempts (who, when, which release, why, via the list), as every
other refused attempt is; and every "you do not have the right" reads as English."""

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from releases.models import RefusedTransition, Release
from releases.services import lifecycle
from tests.releases.governance.test_admin import signed_in

Status = Release.Status
CHANGELIST = "admin:releases_release_changelist"


@pytest.mark.parametrize(
    ("action", "transition", "reason"),
    [
        ("approve", "approve", "You do not have the right to approve releases"),
        ("publish_now", "publish", "You do not have the right to publish releases"),
        (
            "schedule_publication",
            "schedule",
            "You do not have the right to schedule the publication of releases",
        ),
    ],
)
def test_an_analysts_attempt_at_an_approvers_list_action_is_refused_and_kept(
    release: Release, maker: Any, analyst: Any, action: str, transition: str, reason: str
) -> None:
    lifecycle.submit(release, maker)

    response = signed_in(analyst).post(
        reverse(CHANGELIST),
        {"action": action, "index": "0", ACTION_CHECKBOX_NAME: [release.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert reason in page
    assert "No action selected" not in page
    refused = RefusedTransition.objects.get(release=release)
    assert (refused.action, refused.user, refused.via) == (
        transition,
        analyst,
        "admin list action",
    )
    assert refused.why.startswith(reason)
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("transition", "right"),
    [
        ("submit", "submit releases for approval"),
        ("approve", "approve releases"),
        ("return", "return releases for changes"),
        ("schedule", "schedule the publication of releases"),
        ("publish", "publish releases"),
        ("withdraw", "withdraw published releases"),
        ("correct", "start corrections of published releases"),
    ],
)
def test_every_missing_right_is_named_in_english(
    release: Release, board_member: Any, transition: str, right: str
) -> None:
    why = lifecycle.why_not(transition, release, board_member)
    assert why.startswith(f"You do not have the right to {right}: that needs the regulator ")
