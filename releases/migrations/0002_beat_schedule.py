"""The periodic jobs, as django-celery-beat rows so operators can see and pause them."""

from django.db import migrations
from django.utils import timezone

JOBS = [
    # (name, task, every, period)
    ("Publish scheduled releases", "releases.tasks.publish_due_releases", 1, "minutes"),
    ("Recompute drafts whose inputs changed", "releases.tasks.recompute_changed_drafts", 15,
     "minutes"),
]


def create_jobs(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, every, period in JOBS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )
    # A running beat reloads its schedule when this marker changes; the model's own save()
    # does that, but migrations use historical models without it.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_jobs(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in JOBS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_jobs, remove_jobs)]
