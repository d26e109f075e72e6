from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Tasks the broker would not take, kept until the beat has queued them again.

    Infrastructure below every app: the Celery app (leaguetable/celery.py) records a refused
    task here, whichever app's task it was.
    """

    name = "outbox"
    verbose_name = "Background tasks"
