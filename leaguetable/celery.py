import logging
import os
from typing import Any

from celery import Celery, Task
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaguetable.settings")

logger = logging.getLogger(__name__)


class RecordedTask(Task):
    """A task that, when the broker cannot take it, is recorded rather than lost.

    The caller (an admin action, an import, a publication) has already committed its own work;
    failing it now would only hide that the follow-up is missing. So the task is written to
    `UnqueuedTask` and `queue_unqueued_tasks` sends it again from the beat.
    """

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        try:
            return super().apply_async(args, kwargs, **options)
        except OperationalError as error:
            if self.app.conf.task_always_eager:
                raise
            from outbox.models import UnqueuedTask

            UnqueuedTask.objects.create(
                name=self.name, args=list(args or ()), kwargs=dict(kwargs or {}), error=str(error)
            )
            logger.warning(
                "Broker unreachable: %s recorded to be queued again (%s)", self.name, error
            )
            return None


app = Celery("leaguetable", task_cls=RecordedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
