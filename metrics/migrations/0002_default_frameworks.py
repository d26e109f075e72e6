from django.db import migrations

from metrics import default_frameworks


def install(apps, schema_editor):
    default_frameworks.install(apps)


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial"), ("trusts", "0002_reference_data")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
