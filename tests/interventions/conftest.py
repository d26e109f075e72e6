"""A published world for interventions: releases taken through the real lifecycle.

`publish` runs submit → approve → publish now with two different regulators (maker-checker)
and executes the on-commit callbacks, so the publication signal reaches the interventions
receivers and their task exactly as in production (tasks run eagerly in tests).
"""

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from interventions.models import SupportAction, SupportPlan
from interventions.services import support
from leaguetable import roles
from releases.models import Release
from releases.services import lifecycle
from tests.factories import computed_release, user_with_role
from trusts.models import Trust


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # WhiteNoise warns, once per middleware instance, that collectstatic has not run; it warns
    # with stacklevel=3, so the project's filter on the module whitenoise.base misses it.
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))


# Twelve trusts with the default seed, in Q3: T002 and T011 land in segment 4, T003 (in the
# Recovery Support Programme) in segment 5, T004 and T010 in segment 1; T005 scores like a
# segment 1 trust but is in deficit, which caps it at segment 3.
DEFICIT = {"T001", "T005"}
RECOVERY = {"T003"}


@pytest.fixture
def analyst(db: None) -> Any:
    return user_with_role("analyst", roles.ANALYST, first_name="Ann", last_name="Analyst")


@pytest.fixture
def approver(db: None) -> Any:
    return user_with_role("approver", roles.APPROVER, first_name="Ada", last_name="Approver")


Publish = Callable[[Release], Release]


@pytest.fixture
def publish(analyst: Any, approver: Any, django_capture_on_commit_callbacks: Any) -> Publish:
    def publish(release: Release) -> Release:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.submit(release, analyst)
            lifecycle.approve(release, approver)
            lifecycle.publish_now(release, approver)
        release.refresh_from_db()
        return release

    return publish


@pytest.fixture
def q3_release(db: None) -> Release:
    """Q3 2025/26, computed and still a draft."""
    return computed_release(
        trust_count=12, quarter_number=3, replicates=100, deficit=DEFICIT, recovery=RECOVERY
    )


@pytest.fixture
def trust_a(q3_release: Release) -> Trust:
    """A trust in segment 4 in Q3: it gets a targeted support plan."""
    return Trust.objects.get(ods_code="T002")


@pytest.fixture
def trust_b(q3_release: Release) -> Trust:
    """Another segment 4 trust of the same peer group."""
    return Trust.objects.get(ods_code="T011")


@pytest.fixture
def active_plans(q3_release: Release, publish: Publish, approver: Any) -> dict[str, SupportPlan]:
    """Q3 published; every proposed plan confirmed, each with one action due in 30 days."""
    publish(q3_release)
    plans = {}
    for plan in SupportPlan.objects.select_related("trust"):
        plan = support.confirm_plan(plan, approver, "Agreed at the oversight meeting.")
        SupportAction.objects.create(
            plan=plan,
            description=f"Recover the access metrics at {plan.trust.ods_code}",
            owner_name="Owner",
            owner_email=f"owner-{plan.trust.ods_code.lower()}@example.org",
            due_date=timezone.localdate() + datetime.timedelta(days=30),
        )
        plans[plan.trust.ods_code] = plan
    return plans
