"""Regulators' permissions on interventions, added to the groups leaguetable created.

Added, never set: the groups' other permissions belong to leaguetable's roles. Board members get
none (they use the trust area).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from interventions.roles import INTERVENTION_PERMISSIONS


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("interventions")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in INTERVENTION_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [code.split(".")[1] for code in codes]
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="interventions", codename__in=codenames
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=INTERVENTION_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="interventions")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("interventions", "0002_freedom_types"),
        ("leaguetable", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
