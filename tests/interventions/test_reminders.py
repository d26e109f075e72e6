"""The daily reminder job: due and overdue actions, once per action per day."""

import datetime
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from interventions.models import ReminderSent, SupportAction, SupportPlan
from interventions.services.reminders import send_action_reminders
from interventions.tasks import send_action_reminders as reminder_task

pytestmark = pytest.mark.django_db


def _action(plan: SupportPlan, days: int, **fields: Any) -> SupportAction:
    return SupportAction.objects.create(
        plan=plan,
        description=f"Action due in {days} days",
        owner_name="Sam Owner",
        owner_email=f"owner{days}@example.org",
        due_date=timezone.localdate() + datetime.timedelta(days=days),
        **fields,
    )


@pytest.fixture
def due_actions(active_plans: dict[str, SupportPlan]) -> dict[str, SupportAction]:
    plan = active_plans["T002"]
    return {
        "soon": _action(plan, 3),
        "today": _action(plan, 0),
        "overdue": _action(plan, -2),
        "later": _action(plan, 9),
        "finished": _action(plan, -5, status=SupportAction.Status.COMPLETE),
    }


def test_it_sends_each_due_reminder_once(
    due_actions: dict[str, SupportAction], approver: Any
) -> None:
    mail.outbox.clear()

    first = reminder_task.delay().get()
    second = reminder_task.delay().get()

    assert first == {"owners": 3, "regulator_leads": 1}
    assert second == {"owners": 0, "regulator_leads": 0}
    owners = sorted(m.to[0] for m in mail.outbox if m.to[0].startswith("owner"))
    assert owners == ["owner-2@example.org", "owner0@example.org", "owner3@example.org"]
    (lead,) = [m for m in mail.outbox if m.to == [approver.email]]
    assert lead.subject.startswith("Overdue support actions")
    assert "Action due in -2 days" in lead.body
    assert "Action due in 3 days" not in lead.body  # not overdue
    assert ReminderSent.objects.count() == 3


def test_it_reminds_again_the_next_day(due_actions: dict[str, SupportAction]) -> None:
    today = timezone.localdate()
    send_action_reminders(today)
    mail.outbox.clear()

    tomorrow = send_action_reminders(today + datetime.timedelta(days=1))

    # Owners are reminded daily; the regulator lead hears only of the action that became
    # overdue overnight, not again of the one they were told of yesterday.
    assert (tomorrow.owners, tomorrow.regulator_leads) == (3, 1)
    assert len(mail.outbox) == 4
    (lead,) = [m for m in mail.outbox if m.subject.startswith("Overdue support actions")]
    assert "Action due in 0 days" in lead.body
    assert "Action due in -2 days" not in lead.body


def test_it_sends_nothing_for_an_action_another_run_claimed(
    due_actions: dict[str, SupportAction],
) -> None:
    today = timezone.localdate()
    for action in due_actions.values():
        # What the other run left: its claims on the owners' reminders and the lead's notice.
        ReminderSent.objects.create(action=action, day=today)
        SupportAction.objects.filter(pk=action.pk).update(lead_told_overdue_for=action.due_date)
    mail.outbox.clear()

    assert send_action_reminders(today).owners == 0
    assert mail.outbox == []


def test_it_reminds_only_about_active_plans(due_actions: dict[str, SupportAction]) -> None:
    plan = due_actions["soon"].plan
    SupportPlan.objects.filter(pk=plan.pk).update(status=SupportPlan.Status.CLOSED)
    mail.outbox.clear()

    assert send_action_reminders().owners == 0
    assert mail.outbox == []


def test_it_is_scheduled_daily_in_celery_beat() -> None:
    job = PeriodicTask.objects.get(task="interventions.tasks.send_action_reminders")

    assert job.enabled
    assert (job.crontab.minute, job.crontab.hour, str(job.crontab.timezone)) == (
        "0",
        "7",
        "Europe/London",
    )
