"""The bulk write of a release's results stores exactly what the ORM would, on every database.

On PostgreSQL it is one COPY per table (a CSV buffer for the metric results); these tests pin
the awkward values: no value, no rating, text that needs quoting, floats with long expansions.
"""

from decimal import Decimal

import pytest

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
