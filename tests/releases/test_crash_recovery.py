"""A computation that dies is marked failed with its reason, never left "computing", and can be
recomputed at once; the previous results stay intact throughout. (The same faults on a real
worker, killed or cut off from PostgreSQL, are in test_worker_faults.py.)"""

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from billiard.exceptions import WorkerLostError
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from releases import tasks
from releases.models import Release
from releases.services import computation
from tests import factories
from tests.releases.test_computation import results_snapshot

pytestmark = pytest.mark.django_db
Computation = Release.Computation


def stalled(release: Release, seconds_silent: int, progress: float = 0.45) -> Release:
    """The release as a computation left it when its worker died `seconds_silent` ago."""
    now = timezone.now()
    Release.objects.filter(pk=release.pk).update(
        computation=Computation.RUNNING,
        computation_started_at=now - timedelta(seconds=seconds_silent + 30),
        heartbeat_at=now - timedelta(seconds=seconds_silent),
        computation_worker="worker-7 (process 4242)",
        progress=progress,
        progress_message="Likely ranges: 2,250 of 5,000 replicates",
    )
    release.refresh_from_db()
    return release


def test_it_marks_a_computation_that_stopped_beating_failed_with_the_reason() -> None:
    release = factories.computed_release(trust_count=6)
    before = results_snapshot(release)
    stalled(release, seconds_silent=61)

    assert computation.fail_stalled() == 1

    release.refresh_from_db()
    assert release.computation == Computation.FAILED
    assert "stopped at 45% (Likely ranges: 2,250 of 5,000 replicates)" in release.failure_reason
    assert "worker-7 (process 4242)" in release.failure_reason
    assert "previous results are unchanged; recompute it" in release.failure_reason
    assert results_snapshot(release) == before


def test_it_leaves_a_computation_that_is_still_beating_alone() -> None:
    release = stalled(factories.computed_release(trust_count=6), seconds_silent=20)

    assert computation.fail_stalled() == 0
    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.BUSY
    release.refresh_from_db()
    assert release.computation == Computation.RUNNING


def test_the_beat_job_and_the_admin_progress_check_mark_it_failed() -> None:
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "pw-tests")
    superuser_client = Client()
    superuser_client.force_login(superuser)
    first = stalled(factories.computed_release(trust_count=6), seconds_silent=90)
    assert tasks.fail_stalled_computations.delay().get() == 1
    first.refresh_from_db()
    assert first.computation == Computation.FAILED

    stalled(first, seconds_silent=90)
    progress = superuser_client.get(reverse("admin:releases_release_progress", args=[first.pk]))
    assert progress.json()["computation"] == Computation.FAILED
    assert progress.json()["computing"] is False
    assert "stopped at 45%" in progress.json()["failure"]


def test_recompute_starts_at_once_after_a_crash(
    django_capture_on_commit_callbacks: Any,
) -> None:
    release = factories.computed_release(trust_count=6)
    stalled(release, seconds_silent=75)

    with (
        mock.patch.object(tasks.compute_release, "retry") as retry,
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.enqueue_compute(release, force=True)

    retry.assert_not_called()
    release.refresh_from_db()
    assert release.computation == Computation.COMPUTED
    assert release.progress == 1
    assert release.heartbeat_at is not None


def test_it_takes_over_a_stalled_computation_without_waiting_for_the_beat() -> None:
    release = stalled(factories.computed_release(trust_count=6), seconds_silent=70)

    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.COMPUTED


def test_a_computation_given_up_for_dead_stops_and_writes_nothing() -> None:
    release = factories.computed_release(trust_count=8)
    before = results_snapshot(release)
    real_engine = computation.compute_quarter

    def slow_engine(quarter_input, progress):  # type: ignore[no-untyped-def]
        # Meanwhile the beat decides the worker died, and a regulator's recompute takes over.
        Release.objects.filter(pk=release.pk).update(
            heartbeat_at=timezone.now() - timedelta(hours=1)
        )
        computation.fail_stalled()
        return real_engine(quarter_input, progress=progress)

    with (
        mock.patch.object(computation, "compute_quarter", slow_engine),
        pytest.raises(computation.ComputationAbandoned),
    ):
        computation.compute(release.pk, force=True)

    release.refresh_from_db()
    assert release.computation == Computation.FAILED
    assert "stopped at" in release.failure_reason
    assert results_snapshot(release) == before


def test_a_lost_database_connection_is_recorded_as_the_reason() -> None:
    release = factories.computed_release(trust_count=6)
    before = results_snapshot(release)

    def connection_killed(*args: object, **kwargs: object) -> None:
        raise OperationalError("terminating connection due to administrator command")

    with (
        mock.patch.object(computation, "compute_quarter", connection_killed),
        mock.patch.object(computation.connection, "is_usable", return_value=False),
        pytest.raises(OperationalError),
    ):
        computation.compute(release.pk, force=True)

    release.refresh_from_db()
    assert release.computation == Computation.FAILED
    assert release.failure_reason.startswith("The computation lost its database connection")
    assert "terminating connection due to administrator command" in release.failure_reason
    assert results_snapshot(release) == before


def test_a_worker_lost_by_the_pool_is_marked_failed_at_once() -> None:
    release = factories.computed_release(trust_count=6)
    stalled(release, seconds_silent=1)
    Release.objects.filter(pk=release.pk).update(computation_worker=computation.worker_label())

    tasks._worker_lost(
        sender=tasks.compute_release,
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL) Job: 0."),
        args=[release.pk, True],
    )

    release.refresh_from_db()
    assert release.computation == Computation.FAILED
    assert "The worker computing it died: Worker exited prematurely: signal 9" in (
        release.failure_reason
    )


def test_a_busy_task_gives_up_instead_of_retrying_for_ever() -> None:
    release = stalled(factories.computed_release(trust_count=6), seconds_silent=5)

    tasks.compute_release.push_request(retries=tasks.BUSY_RETRIES)
    try:
        assert tasks.compute_release.run(release.pk, True) == "busy"
    finally:
        tasks.compute_release.pop_request()
    assert (
        computation.STALE_COMPUTATION.total_seconds()
    ) < tasks.BUSY_RETRIES * tasks.BUSY_RETRY_SECONDS
