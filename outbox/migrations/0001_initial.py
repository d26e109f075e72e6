"""Tasks the broker refused, and the beat job that queues them again."""

from django.db import migrations, models

from outbox import beat

JOB = ("Queue tasks the broker refused", "outbox.tasks.queue_unqueued_tasks")


def create_job(apps, schema_editor):
    beat.schedule(apps, *JOB, every=1, period="minutes")


def remove_job(apps, schema_editor):
    beat.unschedule(apps, JOB[0])


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="UnqueuedTask",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("args", models.JSONField(default=list)),
                ("kwargs", models.JSONField(default=dict)),
                ("error", models.TextField()),
                ("failed_at", models.DateTimeField(auto_now_add=True)),
                ("attempts", models.PositiveIntegerField(default=1)),
                ("last_attempt_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "task waiting for the queue",
                "verbose_name_plural": "tasks waiting for the queue",
                "ordering": ["failed_at", "pk"],
            },
        ),
        migrations.RunPython(create_job, remove_job),
    ]
