"""A task the broker cannot take is recorded, the admin says so, and the beat queues it again.

The broker is really unreachable here (a Redis URL at a closed port), then really back (kombu's
in-memory transport), so the failure and the recovery both go through Celery's own publishing.
"""

from collections.abc import Iterator

import pytest
from django.urls import reverse

from leaguetable import roles
from leaguetable.celery import app as celery_app
from outbox.models import UnqueuedTask
from outbox.tasks import queue_unqueued_tasks
from releases import tasks
from releases.models import Release
from tests.factories import computed_release, user_with_role

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"


def use_broker(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    celery_app.conf.task_always_eager = False
    use_broker(monkeypatch, CLOSED_PORT)
    yield
    monkeypatch.undo()  # the environment's broker again, for whatever runs next
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_computation_queued_while_the_broker_is_down_is_recorded_not_lost(
    broker_down, django_capture_on_commit_callbacks
):
    release = computed_release(trust_count=4, replicates=10)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_compute(release, force=True)

    waiting = UnqueuedTask.objects.get()
    assert waiting.name == "releases.tasks.compute_release"
    assert waiting.args == [release.pk, True]
    assert "127.0.0.1:1" in waiting.error
    release.refresh_from_db()
    assert release.computation == Release.Computation.QUEUED


def test_the_beat_queues_recorded_tasks_once_the_broker_is_back(broker_down, monkeypatch):
    tasks.compute_release.delay(41)
    tasks.compute_release.delay(42)
    assert UnqueuedTask.objects.count() == 2

    assert queue_unqueued_tasks() == 0  # still down: kept, with the attempt counted
    assert list(UnqueuedTask.objects.values_list("attempts", flat=True)) == [2, 1]

    use_broker(monkeypatch, "memory://")
    assert queue_unqueued_tasks() == 2
    assert not UnqueuedTask.objects.exists()


def test_the_admin_says_what_is_waiting_for_the_queue(client, broker_down):
    tasks.compute_release.delay(41)
    regulator = user_with_role("approver", roles.APPROVER)
    client.force_login(regulator)

    index = client.get("/admin/").content.decode()
    assert "Tasks waiting for the queue" in index
    page = client.get(reverse("admin:outbox_unqueuedtask_changelist")).content.decode()
    assert "could not be queued because the task broker was unreachable" in page
    assert "releases.tasks.compute_release" in page
    assert "(41)" in page
