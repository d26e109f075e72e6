"""People and releases for the governance tests.

Two regulators of each kind: the maker and the checker move a release into the state a test
needs, so the actor under test (analyst, approver, board member or superuser) never did so
himself unless the test says so.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from leaguetable.roles import ANALYST, APPROVER, BOARD_MEMBER
from releases.models import Release
from releases.services import lifecycle
from tests.factories import computed_release, user_with_role

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # Each role's user is made per test; the production hasher's million iterations would
    # make password hashing most of the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def maker(db: None) -> Any:
    return user_with_role("maker", ANALYST)


@pytest.fixture
def checker(db: None) -> Any:
    return user_with_role("checker", APPROVER)


@pytest.fixture
def analyst(db: None) -> Any:
    return user_with_role("analyst", ANALYST)


@pytest.fixture
def approver(db: None) -> Any:
    return user_with_role("approver", APPROVER)


@pytest.fixture
def superuser(db: None) -> Any:
    return user_with_role("root", APPROVER, is_superuser=True)


@pytest.fixture
def release(db: None) -> Release:
    """A computed draft of ten synthetic trusts (Q4 2025/26, mental health and community)."""
    return computed_release(trust_count=10, replicates=100)


@pytest.fixture
def board_member(release: Release) -> Any:
    trust = release.trust_results.order_by("trust__ods_code").first().trust
    return user_with_role("board", BOARD_MEMBER, trust=trust)


@pytest.fixture
def roles(analyst: Any, approver: Any, board_member: Any, superuser: Any) -> dict[str, Any]:
    return {
        "analyst": analyst,
        "approver": approver,
        "board member": board_member,
        "superuser": superuser,
    }


def later(minutes: int = 60) -> Any:
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def move(maker: Any, checker: Any) -> Callable[[Release, str], Release]:
    """Take a draft release to `status` the way regulators do, through the services."""

    def to(release: Release, status: str) -> Release:
        path = {
            Release.Status.DRAFT: [],
            Release.Status.SUBMITTED: ["submit"],
            Release.Status.APPROVED: ["submit", "approve"],
            Release.Status.SCHEDULED: ["submit", "approve", "schedule"],
            Release.Status.PUBLISHED: ["submit", "approve", "publish"],
            Release.Status.WITHDRAWN: ["submit", "approve", "publish", "withdraw"],
        }[status]
        for step in path:
            if step == "submit":
                lifecycle.submit(release, maker)
            elif step == "approve":
                lifecycle.approve(release, checker)
            elif step == "schedule":
                lifecycle.schedule(release, checker, later())
            elif step == "publish":
                lifecycle.publish_now(release, checker)
            elif step == "withdraw":
                lifecycle.withdraw(release, checker, "Withdrawn in a test")
        assert release.status == status
        return release

    return to
