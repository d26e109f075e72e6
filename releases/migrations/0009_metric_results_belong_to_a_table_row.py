"""Each metric result belongs to its trust's row of the same league table, on PostgreSQL.

The two foreign keys of releases_metricresult to the release and to the trust become one
composite foreign key, (release_id, trust_id) to releases_trustresult's unique (release_id,
trust_id), deferred to commit like Django's own. Every metric result is written with its league
table row (releases.services.computation.write_results), so the rule holds for all data; it is
stronger than the two it replaces and costs one check a row instead of two.

SQLite keeps the table as it is (both plain foreign keys): it cannot add a constraint to a
table, and the state's db_constraint=False only tells Django not to manage them.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "releases_metricresult"
COMPOSITE = "releases_metricresult_of_a_table_row"


def _single_foreign_keys(schema_editor) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return [
        name
        for name, constraint in constraints.items()
        if constraint["foreign_key"] and constraint["columns"] in (["release_id"], ["trust_id"])
    ]


def to_composite(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _single_foreign_keys(schema_editor):
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {COMPOSITE} FOREIGN KEY (release_id, trust_id) "
        "REFERENCES releases_trustresult (release_id, trust_id) DEFERRABLE INITIALLY DEFERRED"
    )


def to_single(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {COMPOSITE}")
    for column, target in (("release_id", "releases_release"), ("trust_id", "trusts_trust")):
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_{column}_fk FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0008_drop_redundant_release_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="metricresult",
                    name="release",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="metric_results",
                        to="releases.release",
                    ),
                ),
                migrations.AlterField(
                    model_name="metricresult",
                    name="trust",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="metric_results",
                        to="trusts.trust",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(to_composite, to_single)],
        )
    ]
