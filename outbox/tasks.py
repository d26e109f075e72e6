"""Beat job: queue again the tasks the broker could not take when they were first sent."""

import logging

from celery import current_app, shared_task
from kombu.exceptions import OperationalError

from outbox.models import UnqueuedTask

logger = logging.getLogger(__name__)


@shared_task
def queue_unqueued_tasks() -> int:
    """Send every recorded task, oldest first; stop at the first refusal (the broker is down
    again) and leave the rest, with the new error, for the next tick. Returns how many went."""
    queued = 0
    for task in UnqueuedTask.objects.all():
        try:
            # send_task, not the task's own apply_async: a failure here is already recorded.
            current_app.send_task(task.name, args=task.args, kwargs=task.kwargs, ignore_result=True)
        except OperationalError as error:
            task.attempts += 1
            task.error = str(error)
            task.save(update_fields=["attempts", "error", "last_attempt_at"])
            break
        task.delete()
        queued += 1
    if queued:
        logger.info("Queued %d task(s) that the broker had refused", queued)
    return queued
