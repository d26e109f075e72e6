from django.db import migrations

from metrics import default_frameworks

# Release.FRAMEWORK_FIXED_STATUSES when this was written: a framework version a release in one
# of these states was scored with is part of that release as published.
FRAMEWORK_FIXED_STATUSES = ("approved", "scheduled", "published", "superseded", "withdrawn")


def install_applicability(apps, schema_editor):
    Release = apps.get_model("releases", "Release")

    def is_fixed(framework):
        return Release.objects.filter(
            framework=framework, status__in=FRAMEWORK_FIXED_STATUSES
        ).exists()

    default_frameworks.install_applicability(apps, is_fixed)


class Migration(migrations.Migration):
    """The MH&C framework's mental health metrics apply to mental health and care trusts.

    Here rather than in `metrics` because only releases know which framework versions a
    signed-off release has fixed; those keep what their tables were published with.
    """

    dependencies = [
        ("releases", "0006_domain_segments"),
        ("metrics", "0006_metric_applicability"),
    ]

    operations = [migrations.RunPython(install_applicability, migrations.RunPython.noop)]
