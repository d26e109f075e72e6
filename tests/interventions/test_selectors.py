"""What the public pages may know: support level and freedoms a regulator made public."""

from typing import Any

import pytest

from interventions.models import FreedomGrant, SupportPlan
from interventions.selectors import PublicSupport, public_support_for
from interventions.services import freedoms, support
from trusts.models import Trust

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_world(active_plans: dict[str, SupportPlan], approver: Any) -> dict[str, int]:
    support.set_plan_public(active_plans["T002"], approver, True, "Published in the board papers.")
    grants = FreedomGrant.objects.filter(trust__ods_code="T004").order_by("pk")
    for grant in grants[:2]:
        freedoms.confirm_grant(grant, approver, "Segment 1.")
        freedoms.set_grant_public(grant, approver, True, "Announced.")
    freedoms.confirm_grant(grants[2], approver, "Segment 1.")  # granted, not public
    freedoms.set_grant_public(grants[3], approver, True, "Announced early.")  # still proposed
    return dict(Trust.objects.values_list("ods_code", "pk"))


def test_it_returns_public_support_for_any_number_of_trusts_in_two_queries(
    public_world: dict[str, int], django_assert_num_queries: Any
) -> None:
    ids = list(public_world.values())

    with django_assert_num_queries(2):
        support_by_trust = public_support_for(ids)

    assert set(support_by_trust) == set(ids)
    t002 = support_by_trust[public_world["T002"]]
    assert (t002.support_level, t002.support_level_label) == ("targeted", "Targeted support")
    assert support_by_trust[public_world["T011"]].support_level is None  # active, not public
    t004 = support_by_trust[public_world["T004"]]
    assert [f.name for f in t004.freedoms] == [
        "Reinvest surplus without approval",
        "Capital allocation flexibility",
    ]
    assert not support_by_trust[public_world["T000"]].has_any


def test_it_shows_a_freedom_under_review_or_a_closed_plan_no_longer(
    public_world: dict[str, int], approver: Any
) -> None:
    grant = FreedomGrant.objects.filter(trust__ods_code="T004", is_public=True).first()
    freedoms.flag_for_review(grant, approver, "Deficit reported in month 9.")
    SupportPlan.objects.filter(trust__ods_code="T002").update(status=SupportPlan.Status.CLOSED)

    result = public_support_for([public_world["T004"], public_world["T002"]])

    assert len(result[public_world["T004"]].freedoms) == 1
    assert result[public_world["T002"]].support_level is None


def test_it_carries_nothing_of_a_plans_actions_or_people() -> None:
    assert set(PublicSupport.__dataclass_fields__) == {
        "trust_id",
        "support_level",
        "support_level_label",
        "freedoms",
    }
    assert public_support_for([]) == {}
