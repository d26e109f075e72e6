"""The plan's regulator lead hears of board updates, proposals and overdue actions, once each."""

import datetime
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from interventions.models import ActionUpdate, SupportAction, SupportPlan
from interventions.notifications import tell_regulator_lead, update_posted
from interventions.services import support
from interventions.services.reminders import send_action_reminders
from leaguetable import roles
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def action(active_plans: dict[str, SupportPlan]) -> SupportAction:
    return active_plans["T002"].actions.get()


@pytest.fixture
def board(action: SupportAction) -> Any:
    return user_with_role(
        "board-t002",
        roles.BOARD_MEMBER,
        trust=action.plan.trust,
        first_name="Bea",
        last_name="Board",
    )


def _to(address: str) -> list[Any]:
    return [message for message in mail.outbox if message.to == [address]]


def test_the_lead_hears_of_a_board_update_once_it_commits(
    action: SupportAction, board: Any, approver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        update = support.add_action_update(action, board, "Recruited two community nurses.")
    assert _to(approver.email) == []  # nothing before the commit
    for callback in callbacks:
        callback()

    (message,) = _to(approver.email)
    assert message.subject == f"Progress update: {action.plan.trust.name}"
    assert "Bea Board" in message.body and "Recruited two community nurses." in message.body
    assert f"/admin/interventions/supportaction/{action.pk}/change/" in message.body
    # The task delivered again, or the notice called directly, sends nothing more.
    tell_regulator_lead.delay(update.pk)
    assert update_posted(update.pk) == 0
    assert len(_to(approver.email)) == 1


def test_the_lead_hears_when_the_board_proposes_an_action_complete(
    action: SupportAction, board: Any, approver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        support.propose_action_complete(action, board, "Waiting list back under 18 weeks.")

    (message,) = _to(approver.email)
    assert message.subject == f"Action proposed complete: {action.plan.trust.name}"
    assert "Waiting list back under 18 weeks." in message.body
    assert "Confirm or reject the completion" in message.body
    assert ActionUpdate.objects.get(action=action).proposes_complete


def test_nobody_is_told_when_the_plan_has_no_lead(
    action: SupportAction, board: Any, django_capture_on_commit_callbacks: Any
) -> None:
    SupportPlan.objects.filter(pk=action.plan_id).update(regulator_lead=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        support.add_action_update(action, board, "Board approved the recovery plan.")

    assert mail.outbox == []


def test_the_lead_hears_once_when_an_action_becomes_overdue(
    action: SupportAction, approver: Any
) -> None:
    today = timezone.localdate()
    SupportAction.objects.filter(pk=action.pk).update(due_date=today - datetime.timedelta(days=1))
    mail.outbox.clear()

    assert send_action_reminders(today).regulator_leads == 1
    assert send_action_reminders(today).regulator_leads == 0
    assert send_action_reminders(today + datetime.timedelta(days=1)).regulator_leads == 0
    (message,) = _to(approver.email)
    assert message.subject.startswith("Overdue support actions")
    assert action.description in message.body

    # A new due date, missed again, is news again.
    SupportAction.objects.filter(pk=action.pk).update(due_date=today)
    assert send_action_reminders(today + datetime.timedelta(days=2)).regulator_leads == 1
