"""The catalogue of freedoms the issue names, for regulators to edit from here."""

from django.db import migrations

FREEDOM_TYPES = [
    (
        "reinvest-surplus",
        "Reinvest surplus without approval",
        "Retain and reinvest an in-year surplus without seeking the regulator's approval.",
    ),
    (
        "capital-flexibility",
        "Capital allocation flexibility",
        "Move capital between schemes within the agreed envelope without prior approval.",
    ),
    (
        "reduced-reporting",
        "Reduced reporting frequency",
        "Submit routine oversight returns quarterly instead of monthly.",
    ),
    (
        "lighter-oversight-meetings",
        "Lighter-touch oversight meetings",
        "Fewer and shorter oversight meetings with the regulator.",
    ),
    (
        "foundation-trust-eligibility",
        "Eligibility for foundation trust status",
        "May apply to become (or remain) a foundation trust.",
    ),
]


def seed(apps, schema_editor):
    FreedomType = apps.get_model("interventions", "FreedomType")
    for order, (slug, name, description) in enumerate(FREEDOM_TYPES, start=1):
        FreedomType.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "description": description, "display_order": order},
        )


def unseed(apps, schema_editor):
    FreedomType = apps.get_model("interventions", "FreedomType")
    FreedomType.objects.filter(slug__in=[slug for slug, *_ in FREEDOM_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("interventions", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
