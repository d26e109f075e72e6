"""Periodic jobs as django-celery-beat rows, for the data migrations that install them.

Operators see (and may pause) every job in the admin; the apps' migrations call these with the
historical models, since a migration cannot use the models' own save().
"""

from typing import Any

from django.utils import timezone


def schedule(apps: Any, name: str, task: str, every: int, period: str) -> None:
    """Install (or update) the job `name` running `task` every `every` `period`."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    PeriodicTask.objects.update_or_create(
        name=name, defaults={"task": task, "interval": interval, "enabled": True}
    )
    # A running beat reloads its schedule when this marker changes; the model's own save()
    # does that, but migrations use historical models without it.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps: Any, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
