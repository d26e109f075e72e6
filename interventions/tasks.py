"""Thin Celery tasks: take primary keys, load, call one service function.

A rerun is harmless: every service they call is idempotent, and a task for a release that no
longer exists returns early.
"""

from dataclasses import asdict

from celery import shared_task
from django.db import IntegrityError, OperationalError

from interventions.services import after_publication, reminders
from releases.models import Release

# Worth another go: lock timeouts and dropped connections, and a unique constraint tripped by a
# concurrent publication of another release (the rerun then finds that proposal and skips it).
# Anything else is a bug to see.
RETRY = {
    "autoretry_for": (OperationalError, IntegrityError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(**RETRY)
def process_published_release(release_id: int) -> dict[str, int] | str:
    try:
        release = Release.objects.get(pk=release_id)
    except Release.DoesNotExist:
        return "missing"
    return asdict(after_publication.handle_release_published(release))


@shared_task(**RETRY)
def process_withdrawn_release(release_id: int) -> int | str:
    try:
        release = Release.objects.get(pk=release_id)
    except Release.DoesNotExist:
        return "missing"
    return after_publication.handle_release_withdrawn(release)


@shared_task(**RETRY)
def send_action_reminders() -> dict[str, int]:
    """Beat job, daily: see `reminders.send_action_reminders`; a second run sends nothing."""
    return asdict(reminders.send_action_reminders())
