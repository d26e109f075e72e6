"""League table rows keep the trust's name, subtype and region as computed.

Existing rows are filled from the trusts as they stand (nothing renamed them yet), then the
columns become required.
"""

import django.db.models.deletion
from django.db import migrations, models


def fill_from_trusts(apps, schema_editor):
    TrustResult = apps.get_model("releases", "TrustResult")
    rows = list(TrustResult.objects.select_related("trust"))
    for row in rows:
        row.trust_name = row.trust.name
        row.trust_subtype = row.trust.subtype
        row.region_id = row.trust.region_id
    TrustResult.objects.bulk_update(
        rows, ["trust_name", "trust_subtype", "region"], batch_size=2000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0002_beat_schedule"),
        ("trusts", "0002_reference_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="trustresult",
            name="trust_name",
            field=models.CharField(
                default="", help_text="The trust's name in this table.", max_length=200
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="trustresult",
            name="trust_subtype",
            field=models.CharField(
                default="", help_text="Its subtype in this table.", max_length=100
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="trustresult",
            name="region",
            field=models.ForeignKey(
                help_text="Its region in this table.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="published_results",
                to="trusts.region",
            ),
        ),
        migrations.RunPython(fill_from_trusts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="trustresult",
            name="region",
            field=models.ForeignKey(
                help_text="Its region in this table.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="published_results",
                to="trusts.region",
            ),
        ),
        migrations.AlterModelOptions(
            name="trustresult",
            options={"ordering": ["release", "rank", "trust_name"]},
        ),
    ]
