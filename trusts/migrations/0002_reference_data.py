from django.db import migrations

from trusts.reference import PEER_GROUPS, REGIONS


def create_reference_data(apps, schema_editor):
    Region = apps.get_model("trusts", "Region")
    PeerGroup = apps.get_model("trusts", "PeerGroup")
    for slug, name, published_name in REGIONS:
        Region.objects.update_or_create(
            slug=slug, defaults={"name": name, "published_name": published_name}
        )
    for order, (slug, name, description, trust_type_label) in enumerate(PEER_GROUPS):
        PeerGroup.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "trust_type_label": trust_type_label,
                "display_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("trusts", "0001_initial")]
    operations = [migrations.RunPython(create_reference_data, migrations.RunPython.noop)]
