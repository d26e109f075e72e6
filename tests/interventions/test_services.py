"""Transitions: state checks, who and why in the history, and the admin actions that call them."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from interventions.models import FreedomGrant, SupportPlan
from interventions.services import InterventionError, freedoms, support
from releases.models import Release
from tests.interventions.conftest import Publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(q3_release: Release, publish: Publish) -> FreedomGrant:
    publish(q3_release)
    return FreedomGrant.objects.filter(trust__ods_code="T004").first()


def test_it_records_who_and_why_for_each_change(proposed: FreedomGrant, approver: Any) -> None:
    grant = freedoms.confirm_grant(proposed, approver, "Segment 1 and a surplus plan agreed.")
    grant = freedoms.flag_for_review(grant, approver, "Month 9 deficit.")
    grant = freedoms.keep_grant(grant, approver, "Deficit was a one-off; reviewed at board.")
    grant = freedoms.revoke_grant(grant, approver, "CQC rated inadequate.")

    history = list(
        grant.history.order_by("history_date").values_list(
            "status", "history_user__username", "history_change_reason"
        )
    )
    assert history[1:] == [
        ("granted", "approver", "Segment 1 and a surplus plan agreed."),
        ("under_review", "approver", "Month 9 deficit."),
        ("granted", "approver", "Deficit was a one-off; reviewed at board."),
        ("revoked", "approver", "CQC rated inadequate."),
    ]
    assert (grant.status_reason, grant.status_changed_by) == ("CQC rated inadequate.", approver)
    assert grant.start is not None and grant.review_date > grant.start


def test_it_refuses_a_transition_from_the_wrong_state(
    proposed: FreedomGrant, approver: Any
) -> None:
    with pytest.raises(InterventionError, match="proposed"):
        freedoms.revoke_grant(proposed, approver, "No.")
    with pytest.raises(InterventionError, match="reason"):
        freedoms.confirm_grant(proposed, approver, "  ")
    proposed.refresh_from_db()
    assert proposed.status == FreedomGrant.Status.PROPOSED


def test_it_makes_the_confirming_regulator_the_plans_lead(
    proposed: FreedomGrant, approver: Any
) -> None:
    plan = support.confirm_plan(SupportPlan.objects.first(), approver, "Agreed.")

    assert (plan.status, plan.regulator_lead) == (SupportPlan.Status.ACTIVE, approver)
    with pytest.raises(InterventionError):
        support.confirm_plan(plan, approver, "Again.")


def test_it_confirms_grants_from_the_admin_with_a_reason(
    proposed: FreedomGrant, approver: Any
) -> None:
    client = Client()
    client.force_login(approver)
    url = reverse("admin:interventions_freedomgrant_changelist")
    selection = {"action": "action_grant", "_selected_action": [proposed.pk]}

    asked = client.post(url, selection)
    assert asked.status_code == 200
    assert b"give a reason" in asked.content

    done = client.post(url, {**selection, "post": "yes", "reason": "Agreed at committee."})

    assert done.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == FreedomGrant.Status.GRANTED
    assert proposed.history.first().history_change_reason == "Agreed at committee."


def test_it_offers_decisions_only_to_approvers(proposed: FreedomGrant, analyst: Any) -> None:
    client = Client()
    client.force_login(analyst)

    page = client.get(reverse("admin:interventions_freedomgrant_changelist"))

    assert page.status_code == 200
    assert b"action_grant" not in page.content


def test_it_asks_for_a_reason_when_a_regulator_edits_a_plan(
    proposed: FreedomGrant, analyst: Any
) -> None:
    plan = SupportPlan.objects.first()
    client = Client()
    client.force_login(analyst)
    url = reverse("admin:interventions_supportplan_change", args=[plan.pk])
    form = {
        "level": plan.level,
        "objectives": "Recover the 18-week position.",
        "trust_lead_name": "",
        "trust_lead_email": "",
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
        "exit_criteria-TOTAL_FORMS": "1",
        "exit_criteria-INITIAL_FORMS": "1",
        "exit_criteria-0-id": str(plan.exit_criteria.get().pk),
        "exit_criteria-0-plan": str(plan.pk),
        "exit_criteria-0-kind": "segment",
        "exit_criteria-0-max_segment": "3",
        "exit_criteria-0-consecutive_quarters": "2",
    }

    refused = client.post(url, form)
    assert refused.status_code == 200
    assert b"Say why you are changing this." in refused.content

    saved = client.post(url, {**form, "change_reason": "Objectives agreed with the trust."})

    assert saved.status_code == 302
    latest = plan.history.first()
    assert latest.objectives == "Recover the 18-week position."
    assert (latest.history_user, latest.history_change_reason) == (
        analyst,
        "Objectives agreed with the trust.",
    )
