"""The daily reminders about support actions that are due soon or overdue."""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from interventions.models import ReminderSent, SupportAction, SupportPlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemindersSent:
    owners: int
    regulator_leads: int


def _claim(action: SupportAction, day: datetime.date) -> bool:
    """Record the reminder before sending it; False if this action was already reminded today.

    Insert-before-send: the unique constraint lets exactly one run (of two that overlap, or a
    rerun) claim the action. A send that then fails is not retried today, which is the right
    side to err on for a reminder; sending twice is what the claim prevents.
    """
    try:
        with transaction.atomic():
            ReminderSent.objects.create(action=action, day=day)
    except IntegrityError:
        return False
    return True


def _claim_overdue_notice(action: SupportAction) -> bool:
    """Claim telling the plan's lead that this action is overdue: once per due date.

    A conditional UPDATE, so two overlapping runs cannot both claim it; moving the due date
    and missing the new one tells the lead again. Not claimed while the plan has no lead with
    an address, so a lead named later still hears.
    """
    lead = action.plan.regulator_lead
    if lead is None or not lead.email:
        return False
    return bool(
        SupportAction.objects.filter(pk=action.pk)
        .exclude(lead_told_overdue_for=action.due_date)
        .update(lead_told_overdue_for=action.due_date)
    )


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _owner_message(action: SupportAction, today: datetime.date) -> EmailMessage:
    trust = action.plan.trust
    if action.is_overdue(today):
        when = f"was due on {_day(action.due_date)} and is overdue"
    else:
        when = f"is due on {_day(action.due_date)}"
    body = (
        f"Dear {action.owner_name},\n\n"
        f"An action you own in the support plan for {trust.name} {when}:\n\n"
        f"  {action.description}\n\n"
        f"Status: {action.get_status_display()}. RAG rating: {action.get_rag_display()}.\n\n"
        f"Board members can add progress and evidence in the trust area: "
        f"{settings.SITE_URL}/trust-area/\n"
    )
    return EmailMessage(
        subject=f"Support action {'overdue' if action.is_overdue(today) else 'due soon'}: "
        f"{trust.name}",
        body=body,
        to=[action.owner_email],
    )


def _lead_message(plan: SupportPlan, overdue: list[SupportAction]) -> EmailMessage:
    lines = "\n".join(
        f"  - {a.description} (owner {a.owner_name}, due {_day(a.due_date)})" for a in overdue
    )
    return EmailMessage(
        subject=f"Overdue support actions: {plan.trust.name}",
        body=(
            f"The {plan.get_level_display().lower()} plan for {plan.trust.name}, which you lead, "
            f"has overdue actions:\n\n{lines}\n"
        ),
        to=[plan.regulator_lead.email],
    )


def send_action_reminders(today: datetime.date | None = None) -> RemindersSent:
    """Email owners of open actions due within 7 days or overdue, daily, and tell each plan's
    regulator lead once when an action becomes overdue.

    However often it runs: an owner is reminded once per action per day, and a lead is told
    of an overdue action once (again only if its due date moves and is missed again).
    """
    today = today or timezone.localdate()
    due = SupportAction.objects.due_for_reminder(today).select_related(
        "plan__trust", "plan__regulator_lead"
    )
    owner_messages = []
    overdue_by_plan: dict[int, list[SupportAction]] = defaultdict(list)
    plans: dict[int, SupportPlan] = {}
    for action in due:
        if _claim(action, today) and action.owner_email:
            owner_messages.append(_owner_message(action, today))
        if action.is_overdue(today) and _claim_overdue_notice(action):
            overdue_by_plan[action.plan_id].append(action)
            plans[action.plan_id] = action.plan
    lead_messages = [
        _lead_message(plans[plan_id], actions)
        for plan_id, actions in overdue_by_plan.items()
        if plans[plan_id].regulator_lead is not None and plans[plan_id].regulator_lead.email
    ]
    with get_connection() as connection:
        connection.send_messages([*owner_messages, *lead_messages])
    logger.info(
        "Action reminders for %s: %d to owners, %d to regulator leads",
        today,
        len(owner_messages),
        len(lead_messages),
    )
    return RemindersSent(owners=len(owner_messages), regulator_leads=len(lead_messages))
