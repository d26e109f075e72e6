"""Thin Celery tasks: take primary keys, load, call one service function.

A rerun is harmless: computing is idempotent by input checksum, and a task for a release that no
longer exists returns early.
"""

import logging
from typing import Any

from billiard.exceptions import WorkerLostError
from celery import shared_task
from celery.signals import task_failure
from django.db import transaction

from releases.engine import FrameworkIncomplete
from releases.models import Release
from releases.services import computation

logger = logging.getLogger(__name__)


# While another computation holds the release, retry for a little longer than it takes a dead
# one's heartbeat to go stale (then this run takes over), not indefinitely.
BUSY_RETRIES = 8
BUSY_RETRY_SECONDS = 10


@shared_task(bind=True, max_retries=BUSY_RETRIES, default_retry_delay=BUSY_RETRY_SECONDS)
def compute_release(self, release_id: int, force: bool = False) -> str:
    try:
        outcome = computation.compute(release_id, force=force)
    except Release.DoesNotExist:
        return "missing"
    except (FrameworkIncomplete, computation.ReleaseNotComputable) as refusal:
        # Recorded on the release for the regulator to see; retrying would not change it.
        logger.warning("Release %s not computed: %s", release_id, refusal)
        return "refused"
    if outcome == computation.ComputationOutcome.BUSY:
        # Another worker is computing this release; come back when it has finished (the
        # checksum comparison then makes this run a no-op if nothing changed meanwhile) or its
        # heartbeat has stopped (this run takes over).
        if self.request.retries >= BUSY_RETRIES:
            logger.warning("Release %s still busy after %s retries", release_id, BUSY_RETRIES)
            return "busy"
        raise self.retry()
    return outcome


@task_failure.connect(sender=compute_release)
def _worker_lost(sender: Any = None, exception: Exception | None = None, **kwargs: Any) -> None:
    """The pool lost the process computing a release (killed, out of memory): this runs in the
    worker's main process, which saw it go, and marks the release failed at once."""
    if isinstance(exception, WorkerLostError):
        args = kwargs.get("args") or []
        if args:
            computation.fail_lost_worker(int(args[0]), str(exception))


def enqueue_compute(release: Release, *, force: bool = False) -> None:
    """Queue a computation once the current transaction commits, so the worker sees the rows.

    A computation that has stopped beating is marked failed first, so the new one can start at
    once rather than wait behind it.
    """
    computation.fail_stalled([release.pk])
    Release.objects.filter(pk=release.pk).exclude(computation=Release.Computation.RUNNING).update(
        computation=Release.Computation.QUEUED, progress=0, progress_message="Queued"
    )
    release_id = release.pk
    transaction.on_commit(lambda: compute_release.delay(release_id, force))


@shared_task
def recompute_changed_drafts() -> int:
    """Beat job: recompute every draft whose inputs changed since it was computed."""
    queued = 0
    for release in Release.objects.filter(status=Release.Status.DRAFT).select_related(
        "framework", "quarter", "peer_group"
    ):
        try:
            checksum = computation.load_inputs(release).checksum
        except computation.ReleaseNotComputable:
            continue
        if checksum != release.input_checksum:
            enqueue_compute(release)
            queued += 1
    return queued


@shared_task
def fail_stalled_computations() -> int:
    """Beat job, every 30 seconds: computations whose worker died are marked failed."""
    return computation.fail_stalled()


@shared_task
def publish_due_releases() -> int:
    """Beat job, every minute: publish scheduled releases whose time has come.

    Safe to run twice at once or to rerun: each release is claimed under a row lock with a
    compare-and-set on its status, so it is published exactly once.
    """
    from releases.services.lifecycle import publish_due

    return publish_due()
