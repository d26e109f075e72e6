"""E-mails to a support plan's regulator lead about what the trust's board has done.

Sent from a task queued with `transaction.on_commit`, so nobody hears of an update that was
rolled back. Each update is claimed (a conditional UPDATE of `lead_notified_at`) before its
message is sent: a task delivered twice, or rerun after a failure, sends it at most once.
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from interventions.models import ActionUpdate


def update_posted(update_id: int) -> int:
    """Tell the plan's regulator lead of a board's progress update or proposal; 1 if sent."""
    update = (
        ActionUpdate.objects.select_related(
            "action__plan__trust", "action__plan__regulator_lead", "author"
        )
        .filter(pk=update_id)
        .first()
    )
    if update is None:
        return 0
    plan = update.action.plan
    lead = plan.regulator_lead
    if lead is None or not lead.email or update.author_id == lead.pk:
        return 0
    claimed = ActionUpdate.objects.filter(pk=update.pk, lead_notified_at__isnull=True).update(
        lead_notified_at=timezone.now()
    )
    if not claimed:
        return 0
    return EmailMessage(
        subject=_subject(update),
        body=_body(update),
        to=[lead.email],
    ).send()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def tell_regulator_lead(update_id: int) -> int:
    """Thin task for `update_posted`, queued on commit by the services; a rerun sends nothing.

    Defined here rather than in tasks.py, which imports the services that queue it.
    """
    return update_posted(update_id)


def _subject(update: ActionUpdate) -> str:
    trust = update.action.plan.trust.name
    if update.proposes_complete:
        return f"Action proposed complete: {trust}"
    return f"Progress update: {trust}"


def _body(update: ActionUpdate) -> str:
    action = update.action
    plan = action.plan
    author = update.author.get_full_name() or update.author.get_username()
    what = "proposed this action complete" if update.proposes_complete else "added an update"
    evidence = []
    if update.evidence_file:
        evidence.append(f"Evidence file: {update.evidence_name}")
    if update.evidence_link:
        evidence.append(f"Evidence link: {update.evidence_link}")
    decide = (
        "\nConfirm or reject the completion in the admin:\n" if update.proposes_complete else "\n"
    )
    link = settings.SITE_URL.rstrip("/") + reverse(
        "admin:interventions_supportaction_change", args=[action.pk]
    )
    return (
        f"{author} ({plan.trust.name}) {what} on {update.date:%-d %B %Y}, in the "
        f"{plan.get_level_display().lower()} plan you lead.\n\n"
        f"Action: {action.description}\n"
        f"Due: {action.due_date:%-d %B %Y}\n\n"
        f"{update.text}\n\n"
        + ("\n".join(evidence) + "\n" if evidence else "")
        + f"{decide}{link}\n"
    )
