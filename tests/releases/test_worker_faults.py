"""Faults on a real Celery worker (a separate process, prefork pool) against PostgreSQL and
Redis: the busy child or the worker's main process killed with SIGKILL mid-computation, or the
worker's database connection terminated. Each time the release shows failed with the reason
within two minutes, the previous results stay intact throughout, and a recompute succeeds."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction

from leaguetable.celery import app as celery_app
from releases import tasks
from releases.models import Release, TrustResult
from releases.services import computation
from releases.services.drafts import draft_release
from tests import factories
from tests.conftest import REPO

Computation = Release.Computation
# Enough work that the computation is still running when the fault strikes, on a busy machine.
TRUSTS = 60
REPLICATES = 60_000
WITHIN = 120  # seconds: the "within 2 minutes"

pytestmark = [
    pytest.mark.broker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def postgres(broker_url: str) -> str:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the worker fault tests need PostgreSQL (DATABASE_URL): a worker process "
            "cannot share the test's SQLite database"
        )
    return broker_url


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in its own process, consuming a queue of its own."""

    def __init__(self, broker_url: str, queue: str, log: Path, number: int) -> None:
        self.name = f"{queue}-{number}@%h"
        self.log = log
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "PYTHONPATH": str(REPO),
        }
        output = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leaguetable",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                queue,
                "-n",
                self.name,
            ],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output.close()  # the worker has its own copy

    def wait_until_ready(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            time.sleep(0.5)
        raise AssertionError(f"worker not ready after {seconds} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def worker_queue(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Worker]]:
    """Start workers on a queue only this test uses (tests in other processes share the
    broker); the computations Recompute queues are sent to it."""
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    started: list[Worker] = []
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    monkeypatch.setattr(
        tasks.compute_release,
        "delay",
        lambda *args: tasks.compute_release.apply_async(args, queue=queue),
    )

    def start() -> Worker:
        number = len(started)
        worker = Worker(postgres, queue, tmp_path / f"worker-{number}.log", number)
        started.append(worker)
        worker.wait_until_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
        # Shown by pytest when the test failed: what the worker itself said.
        print(worker.log.read_text(errors="replace")[-6000:])
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def release(db: None) -> Release:
    """A draft computed once (quickly), so it has results a failed recompute must keep."""
    quarter = factories.quarter(4)
    trusts = factories.make_trusts(TRUSTS)
    factories.make_observations(trusts, quarter)
    release = draft_release(quarter, factories.PEER_GROUP)
    release.replicates = 50
    release.save()
    computation.compute(release.pk)
    release.replicates = REPLICATES
    release.save()
    release.refresh_from_db()
    return release


def results(release: Release) -> list[tuple]:
    return list(
        TrustResult.objects.filter(release=release)
        .order_by("trust_id")
        .values_list("trust_id", "rank", "segment", "average_score", "rank_low", "rank_high")
    )


def recompute(release: Release) -> None:
    """What the admin's Recompute does."""
    with transaction.atomic():
        tasks.enqueue_compute(release, force=True)


def wait_for(release: Release, condition: Callable[[Release], bool], seconds: float) -> Release:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        release.refresh_from_db()
        if condition(release):
            return release
        time.sleep(0.5)
    raise AssertionError(
        f"after {seconds} s: {release.computation} {release.progress:.0%} "
        f"{release.progress_message!r} {release.failure_reason!r}"
    )


def computing_past(fraction: float) -> Callable[[Release], bool]:
    return lambda r: r.computation == Computation.RUNNING and r.progress >= fraction


def failed(r: Release) -> bool:
    return r.computation == Computation.FAILED


def the_beat_running(release: Release, seconds: float) -> Release:
    """Wait for the release to fail while the beat's job runs (every 30 s in production)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tasks.fail_stalled_computations.apply()
        release.refresh_from_db()
        if failed(release):
            return release
        time.sleep(5)
    raise AssertionError(f"not failed after {seconds} s: {release.computation}")


def computing_with_old_results(release: Release) -> tuple[list[tuple], float]:
    """Recompute and wait until the computation is a third done: the moment to strike. Returns
    the results it must not touch and when the fault struck."""
    before = results(release)
    recompute(release)
    wait_for(release, computing_past(0.3), 180)
    return before, time.monotonic()


def recomputes_after_the_fault(release: Release) -> None:
    release.replicates = 200
    release.save()
    recompute(release)
    wait_for(release, lambda r: r.computation == Computation.COMPUTED, 180)
    assert release.progress == 1 and release.failure_reason == ""
    assert len(results(release)) == TRUSTS


def child_pid(release: Release) -> int:
    match = re.search(r"\(process (\d+)\)", release.computation_worker)
    assert match, release.computation_worker
    return int(match[1])


def test_it_fails_and_recomputes_when_the_busy_child_is_killed(
    release: Release, worker_queue: Callable[[], Worker]
) -> None:
    worker = worker_queue()
    before, killed_at = computing_with_old_results(release)

    os.kill(child_pid(release), signal.SIGKILL)

    wait_for(release, failed, WITHIN)
    assert time.monotonic() - killed_at < WITHIN
    assert "The worker computing it died" in release.failure_reason
    assert "SIGKILL" in release.failure_reason
    assert results(release) == before
    # The worker's pool replaces the child; Recompute runs at once, without waiting out BUSY.
    recomputes_after_the_fault(release)
    assert worker.process.poll() is None


def test_it_fails_and_recomputes_when_the_worker_itself_is_killed(
    release: Release, worker_queue: Callable[[], Worker]
) -> None:
    worker = worker_queue()
    before, killed_at = computing_with_old_results(release)

    # kill -9 of the whole worker, as an orchestrator stopping the machine would.
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=30)

    the_beat_running(release, WITHIN)
    assert time.monotonic() - killed_at < WITHIN
    assert "no sign of life" in release.failure_reason
    assert "recompute it" in release.failure_reason
    assert results(release) == before
    worker_queue()
    recomputes_after_the_fault(release)


def test_it_fails_and_recomputes_when_its_database_connection_is_terminated(
    release: Release, worker_queue: Callable[[], Worker]
) -> None:
    worker_queue()
    before, killed_at = computing_with_old_results(release)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    wait_for(release, failed, WITHIN)
    assert time.monotonic() - killed_at < WITHIN
    assert release.failure_reason.startswith("The computation lost its database connection")
    assert results(release) == before
    recomputes_after_the_fault(release)
