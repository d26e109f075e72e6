"""The embargo lifts by the beat: a scheduled release whose time has passed is published by
the next tick, never skipped and never twice, even when two ticks run at the same moment."""

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from leaguetable.roles import ANALYST, APPROVER
from releases import tasks
from releases.models import Release, ReleaseTransition
from releases.services import lifecycle
from releases.signals import release_published
from tests.factories import computed_release, user_with_role

Status = Release.Status
Action = ReleaseTransition.Action


@pytest.fixture
def scheduled(release: Release, move: Callable) -> Release:
    return move(release, Status.SCHEDULED)


def test_it_publishes_a_release_whose_time_has_passed_exactly_once(
    scheduled: Release, django_capture_on_commit_callbacks: Any
) -> None:
    received = []

    def on_published(sender: Any, release: Release, **kwargs: Any) -> None:
        received.append(release.pk)

    release_published.connect(on_published)
    try:
        after = scheduled.scheduled_for + timedelta(hours=3)  # no worker ran for three hours
        with django_capture_on_commit_callbacks(execute=True):
            assert lifecycle.publish_due(now=after) == 1
            assert lifecycle.publish_due(now=after + timedelta(minutes=1)) == 0
    finally:
        release_published.disconnect(on_published)
    scheduled.refresh_from_db()
    assert scheduled.status == Status.PUBLISHED
    assert scheduled.published_at == after
    publication = scheduled.transitions.get(action=Action.PUBLISH)
    assert (publication.user, publication.from_status) == (None, Status.SCHEDULED)
    assert received == [scheduled.pk]
    assert [m.to for m in mail.outbox] == [["maker@example.org"]]


def test_it_leaves_a_release_whose_time_has_not_come(scheduled: Release) -> None:
    assert lifecycle.publish_due(now=scheduled.scheduled_for - timedelta(seconds=1)) == 0
    scheduled.refresh_from_db()
    assert scheduled.status == Status.SCHEDULED


def test_it_runs_as_the_beat_task(scheduled: Release) -> None:
    Release.objects.filter(pk=scheduled.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=5)
    )
    assert tasks.publish_due_releases.delay().get() == 1
    scheduled.refresh_from_db()
    assert scheduled.status == Status.PUBLISHED


def test_it_publishes_once_when_another_tick_got_there_between_listing_and_claiming(
    scheduled: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The interleaving two concurrent ticks can produce, made deterministic: this tick has
    # listed the release as due when the other tick publishes it.
    now = scheduled.scheduled_for + timedelta(minutes=1)
    real = lifecycle._publish_scheduled
    other_tick: list[int] = []

    def claim_after_the_other_tick(release_id: int, at: Any) -> int:
        if not other_tick:
            other_tick.append(real(release_id, at))
        return real(release_id, at)

    monkeypatch.setattr(lifecycle, "_publish_scheduled", claim_after_the_other_tick)
    assert lifecycle.publish_due(now=now) == 0
    assert other_tick == [1]
    assert scheduled.transitions.filter(action=Action.PUBLISH).count() == 1


def test_it_does_not_publish_a_release_returned_or_rescheduled_meanwhile(
    scheduled: Release, approver: Any
) -> None:
    now = scheduled.scheduled_for + timedelta(minutes=1)
    lifecycle.schedule(scheduled, approver, now + timedelta(days=1))
    assert lifecycle.publish_due(now=now) == 0
    lifecycle.return_for_changes(scheduled, approver, "Hold it")
    assert lifecycle.publish_due(now=now + timedelta(days=2)) == 0
    scheduled.refresh_from_db()
    assert scheduled.status == Status.DRAFT


def test_it_keeps_publishing_the_others_when_one_release_fails(
    scheduled: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = scheduled.scheduled_for + timedelta(minutes=1)
    calls = []

    def broken(release_id: int, at: Any) -> int:
        calls.append(release_id)
        raise RuntimeError("disk full")

    monkeypatch.setattr(lifecycle, "_publish_scheduled", broken)
    assert lifecycle.publish_due(now=now) == 0
    monkeypatch.undo()
    # Left scheduled, so the next tick tries again.
    assert lifecycle.publish_due(now=now) == 1
    assert calls == [scheduled.pk]


def test_it_installs_the_beat_schedule(db: None) -> None:
    jobs = {
        task.task: (task.interval.every, task.interval.period, task.enabled)
        for task in PeriodicTask.objects.filter(task__startswith="releases.tasks.")
    }
    assert jobs["releases.tasks.publish_due_releases"] == (1, "minutes", True)
    assert jobs["releases.tasks.recompute_changed_drafts"] == (15, "minutes", True)


# Real transactions, so each thread's lock or compare-and-set meets the other's; the
# roles and frameworks come from the data migrations, hence the serialized rollback.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_publishes_once_when_two_ticks_run_at_the_same_moment() -> None:
    maker = user_with_role("maker", ANALYST)
    checker = user_with_role("checker", APPROVER)
    release = computed_release(trust_count=10, replicates=100)
    lifecycle.submit(release, maker)
    lifecycle.approve(release, checker)
    lifecycle.schedule(release, checker, timezone.now() + timedelta(minutes=5))
    now = release.scheduled_for + timedelta(minutes=1)

    start = threading.Barrier(2)
    outcomes: list[int | BaseException] = []

    def tick() -> None:
        try:
            start.wait()
            outcomes.append(lifecycle.publish_due(now=now))
        except BaseException as error:
            outcomes.append(error)
        finally:
            connection.close()

    ticks = [threading.Thread(target=tick) for _ in range(2)]
    for thread in ticks:
        thread.start()
    for thread in ticks:
        thread.join(timeout=60)

    assert len(outcomes) == 2
    if connection.vendor == "sqlite":
        # SQLite has no row locks, and its shared in-memory test database answers a reader that
        # meets the other tick's write "table is locked" instead of waiting: that tick fails
        # (the next one would find nothing left to do). Under load both can meet the other's
        # lock and fail: the release stays scheduled and the next tick publishes it. Never twice.
        assert outcomes.count(1) <= 1
        assert all(o in (0, 1) or isinstance(o, OperationalError) for o in outcomes)
        if 1 not in outcomes:
            assert lifecycle.publish_due(now=now) == 1
    else:
        # PostgreSQL: the second tick waits on the row lock, then finds the release published.
        assert sorted(outcomes) == [0, 1]
    release.refresh_from_db()
    assert release.status == Status.PUBLISHED
    assert ReleaseTransition.objects.filter(release=release, action=Action.PUBLISH).count() == 1
    assert release.history.filter(status=Status.PUBLISHED).count() == 1
