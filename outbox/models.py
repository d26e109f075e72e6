"""Tasks the broker would not take, kept until the beat has queued them again."""

from django.db import models


class UnqueuedTask(models.Model):
    """A background task (a computation, an import, publication follow-ups) that could not be
    queued because the broker was unreachable. Nothing is lost: `queue_unqueued_tasks` on the
    beat sends it again once the broker answers, and the admin lists what is still waiting."""

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    error = models.TextField()
    failed_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=1)
    last_attempt_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["failed_at", "pk"]
        verbose_name = "task waiting for the queue"
        verbose_name_plural = "tasks waiting for the queue"

    def __str__(self) -> str:
        arguments = ", ".join(
            [*map(repr, self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())]
        )
        return f"{self.name}({arguments})"
