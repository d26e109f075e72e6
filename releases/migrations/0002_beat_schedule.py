"""The periodic jobs, as django-celery-beat rows so operators can see and pause them."""

from django.db import migrations

from outbox import beat

JOBS = [
    # (name, task, every, period)
    ("Publish scheduled releases", "releases.tasks.publish_due_releases", 1, "minutes"),
    ("Recompute drafts whose inputs changed", "releases.tasks.recompute_changed_drafts", 15,
     "minutes"),
]


def create_jobs(apps, schema_editor):
    for name, task, every, period in JOBS:
        beat.schedule(apps, name, task, every, period)


def remove_jobs(apps, schema_editor):
    for name, *_ in JOBS:
        beat.unschedule(apps, name)


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_jobs, remove_jobs)]
