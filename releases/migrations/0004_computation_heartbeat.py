"""A running computation's heartbeat and worker, and the beat job that fails stalled ones."""

from django.db import migrations, models

from outbox import beat

JOB = ("Fail computations whose worker died", "releases.tasks.fail_stalled_computations")


def create_job(apps, schema_editor):
    beat.schedule(apps, *JOB, every=30, period="seconds")


def remove_job(apps, schema_editor):
    beat.unschedule(apps, JOB[0])


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0003_trust_as_published"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="heartbeat_at",
            field=models.DateTimeField(
                blank=True, help_text="Last sign of life of the running computation.", null=True
            ),
        ),
        migrations.AddField(
            model_name="release",
            name="computation_worker",
            field=models.CharField(
                blank=True,
                help_text="The worker process computing it (or last did).",
                max_length=200,
            ),
        ),
        migrations.RunPython(create_job, remove_job),
    ]
