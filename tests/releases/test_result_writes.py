"""The bulk write of a release's results stores exactly what the ORM would, on every database.

On PostgreSQL it is one COPY per table (a CSV buffer for the metric results); these tests pin
the awkward values: no value, no rating, text that needs quoting, floats with long expansions.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from releases.models import MetricPeerStatistics, MetricResult, TrustResult
from releases.services import computation
from tests import factories

pytestmark = pytest.mark.django_db


def test_metric_results_keep_nulls_empty_ratings_quoted_text_and_exact_numbers() -> None:
    release = factories.computed_release(trust_count=3, replicates=10)
    MetricResult.objects.filter(release=release).delete()
    trusts = list(release.trust_results.values_list("trust_id", flat=True).order_by("trust_id"))
    metric_id = MetricResult._meta.get_field("metric").related_model.objects.first().pk
    rows = computation.MetricResultColumns(
        trust_ids=trusts,
        metric_ids=[metric_id] * 3,
        values=[None, 0.1 + 0.2, 1e-07],
        ratings=["", 'Met, "in part"\nsee note', "Not met"],
        scores=[2.1234, None, 4.0],
    )

    computation.insert_metric_results(release.pk, rows)

    stored = {
        r.trust_id: r for r in MetricResult.objects.filter(release=release, metric_id=metric_id)
    }
    first, second, third = (stored[trust] for trust in trusts)
    assert first.value is None
    assert first.value_text == ""
    assert first.score == Decimal("2.1234")
    assert second.value == Decimal("0.300000")
    assert second.value_text == 'Met, "in part"\nsee note'
    assert second.score is None
    assert third.value == Decimal("0.000000")
    assert third.score == Decimal("4.0000")


def test_a_recompute_writes_the_same_rows_as_before() -> None:
    release = factories.computed_release(trust_count=6, replicates=20)

    def snapshot() -> list[tuple]:
        return [
            *TrustResult.objects.filter(release=release)
            .order_by("trust_id")
            .values_list(
                "trust_id", "average_score", "average_low", "segment", "rank", "domain_scores"
            ),
            *MetricResult.objects.filter(release=release)
            .order_by("trust_id", "metric_id")
            .values_list("trust_id", "metric_id", "value", "value_text", "score"),
            *MetricPeerStatistics.objects.filter(release=release)
            .order_by("metric_id")
            .values_list("metric_id", "trusts_reporting", "median"),
        ]

    before = snapshot()
    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.COMPUTED
    assert snapshot() == before
    assert any(row[5] for row in before[:6]), "domain scores are stored as JSON"


# What the database holds each metric result to ------------------------------------------------


def _foreign_keys(table: str) -> dict[tuple[str, ...], str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        tuple(constraint["columns"]): constraint["foreign_key"][0]
        for constraint in constraints.values()
        if constraint["foreign_key"]
    }


def test_each_database_holds_metric_results_to_their_release_trust_and_metric() -> None:
    """PostgreSQL: one composite key to the trust's row of the same table (migration 0009);
    SQLite: the plain foreign keys. A migration that rebuilt the table and lost them fails here."""
    keys = _foreign_keys(MetricResult._meta.db_table)
    if connection.vendor == "postgresql":
        assert keys == {
            ("release_id", "trust_id"): "releases_trustresult",
            ("metric_id",): "metrics_metric",
        }
    else:
        assert keys == {
            ("release_id",): "releases_release",
            ("trust_id",): "trusts_trust",
            ("metric_id",): "metrics_metric",
        }


def _write_one(release_id: int, trust_id: int, metric_id: int) -> None:
    with transaction.atomic():
        computation.insert_metric_results(
            release_id,
            computation.MetricResultColumns([trust_id], [metric_id], [1.0], [""], [2.0]),
        )
        connection.check_constraints()


@pytest.mark.parametrize("wrong", ["no-such-trust", "no-such-release"])
def test_a_metric_result_for_nothing_is_refused(wrong: str) -> None:
    release = factories.computed_release(trust_count=3, replicates=10)
    row = MetricResult.objects.filter(release=release).first()
    MetricResult.objects.filter(pk=row.pk).delete()
    trust_id = row.trust_id + 10_000 if wrong == "no-such-trust" else row.trust_id
    release_id = release.pk + 10_000 if wrong == "no-such-release" else release.pk
    with pytest.raises(IntegrityError):
        _write_one(release_id, trust_id, row.metric_id)
    assert (
        not MetricResult.objects.filter(release=release, trust_id=row.trust_id)
        .filter(metric_id=row.metric_id)
        .exists()
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps the plain foreign keys")
def test_a_metric_result_of_a_trust_missing_from_the_table_is_refused() -> None:
    release = factories.computed_release(trust_count=3, replicates=10)
    row = MetricResult.objects.filter(release=release).first()
    (outsider,) = factories.make_trusts(1, prefix="Z")
    with pytest.raises(IntegrityError):
        _write_one(release.pk, outsider.pk, row.metric_id)


def test_a_draft_release_and_all_its_results_can_be_deleted() -> None:
    release = factories.computed_release(trust_count=4, replicates=10)
    assert MetricResult.objects.filter(release=release).exists()
    with transaction.atomic():
        release.delete()
        connection.check_constraints()
    assert not MetricResult.objects.filter(release_id=release.pk).exists()
    assert not TrustResult.objects.filter(release_id=release.pk).exists()
