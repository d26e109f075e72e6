"""Regulators may view the patient feedback (KO41a complaints, CQC survey sections)."""

from importlib import import_module

from django.db import migrations

# The same function as the roles' first migration: groups set to leaguetable.roles again.
create_roles = import_module("leaguetable.migrations.0001_roles").create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("leaguetable", "0001_roles"),
        ("metrics", "0003_patient_feedback"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
