"""Computing a release through the Django layer: idempotence, locking, failure, jobs."""

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from metrics.models import MetricDefinition, Observation, TrustQuarterStatus
from releases import tasks
from releases.engine import FrameworkIncomplete
from releases.models import MetricPeerStatistics, MetricResult, Release, TrustResult
from releases.services import computation
from tests import factories

pytestmark = pytest.mark.django_db


def results_snapshot(release: Release) -> list[tuple]:
    return list(
        TrustResult.objects.filter(release=release)
        .order_by("trust__ods_code")
        .values_list(
            "trust__ods_code",
            "average_score",
            "segment",
            "rank",
            "rank_low",
            "rank_high",
            "average_low",
            "average_high",
        )
    )


def test_it_stores_a_league_table_row_for_every_trust() -> None:
    release = factories.computed_release(trust_count=10)

    assert release.computation == Release.Computation.COMPUTED
    assert TrustResult.objects.filter(release=release).count() == 10
    ranks = sorted(TrustResult.objects.filter(release=release).values_list("rank", flat=True))
    assert ranks[0] == 1
    assert all(r.segment in (1, 2, 3, 4) for r in TrustResult.objects.filter(release=release))
    assert release.t1 is not None and release.t1 < release.t2 < release.t3
    counted = MetricDefinition.objects.filter(framework=release.framework, counted=True).count()
    assert MetricResult.objects.filter(release=release).count() == 10 * counted
    assert MetricPeerStatistics.objects.filter(release=release).count() == (
        MetricDefinition.objects.filter(framework=release.framework).count()
    )


def test_it_does_not_rewrite_results_when_the_inputs_are_unchanged() -> None:
    release = factories.computed_release(trust_count=8)
    first_ids = set(TrustResult.objects.filter(release=release).values_list("pk", flat=True))

    outcome = computation.compute(release.pk)

    assert outcome == computation.ComputationOutcome.UNCHANGED
    assert set(TrustResult.objects.filter(release=release).values_list("pk", flat=True)) == (
        first_ids
    )


def test_it_recomputes_with_the_same_results_for_the_same_seed() -> None:
    release = factories.computed_release(trust_count=8)
    before = results_snapshot(release)

    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.COMPUTED

    assert results_snapshot(release) == before


def test_it_notices_a_changed_observation_through_the_checksum() -> None:
    release = factories.computed_release(trust_count=8)
    checksum = release.input_checksum
    observation = Observation.objects.filter(quarter=release.quarter).first()
    observation.supplied_score = Decimal("4.00")
    observation.save()

    assert computation.compute(release.pk) == computation.ComputationOutcome.COMPUTED
    release.refresh_from_db()
    assert release.input_checksum != checksum


def _change_a_value(release: Release) -> None:
    observation = Observation.objects.filter(quarter=release.quarter, value__isnull=False).first()
    observation.value += Decimal("0.000001")
    observation.save()


def _drop_an_observation(release: Release) -> None:
    Observation.objects.filter(quarter=release.quarter).first().delete()


def _flag_a_deficit(release: Release) -> None:
    trust = TrustResult.objects.filter(release=release).first().trust
    TrustQuarterStatus.objects.update_or_create(
        trust=trust, quarter=release.quarter, defaults={"in_financial_deficit": True}
    )


def _change_the_seed(release: Release) -> None:
    Release.objects.filter(pk=release.pk).update(seed=release.seed + 1)


@pytest.mark.parametrize(
    "change", [_change_a_value, _drop_an_observation, _flag_a_deficit, _change_the_seed]
)
def test_it_changes_the_checksum_with_any_input_that_decides_the_results(change) -> None:
    release = factories.computed_release(trust_count=6)
    assert computation.load_inputs(release).checksum == release.input_checksum

    change(release)

    release.refresh_from_db()
    assert computation.load_inputs(release).checksum != release.input_checksum


def test_it_keeps_the_previous_results_when_a_recompute_fails_half_way() -> None:
    release = factories.computed_release(trust_count=8)
    before = results_snapshot(release)
    Observation.objects.filter(quarter=release.quarter).update(supplied_score=Decimal("1.00"))

    def fail_after_trust_rows(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The league table rows are written by then; the metric results fail.
    with (
        mock.patch.object(computation, "insert_metric_results", fail_after_trust_rows),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        computation.compute(release.pk)

    assert results_snapshot(release) == before
    release.refresh_from_db()
    assert release.computation == Release.Computation.FAILED
    assert "disk full" in release.failure_reason


def test_it_refuses_a_busy_release_instead_of_computing_it_twice() -> None:
    release = factories.computed_release(trust_count=6)
    Release.objects.filter(pk=release.pk).update(
        computation=Release.Computation.RUNNING, computation_started_at=timezone.now()
    )

    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.BUSY


def test_it_takes_over_a_computation_whose_worker_died() -> None:
    release = factories.computed_release(trust_count=6)
    Release.objects.filter(pk=release.pk).update(
        computation=Release.Computation.RUNNING,
        computation_started_at=timezone.now() - computation.STALE_COMPUTATION * 2,
        # Its last progress report (the heartbeat) is as old: the worker stopped.
        heartbeat_at=timezone.now() - computation.STALE_COMPUTATION * 2,
    )

    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.COMPUTED


def test_it_refuses_to_guess_a_missing_combined_finance_pair() -> None:
    release = factories.computed_release(trust_count=6)
    release.use_supplied_scores = False
    release.save()
    finance = Observation.objects.filter(quarter=release.quarter, metric__code="OF1080")
    trust_ids = list(finance.values_list("trust_id", flat=True))
    finance.delete()
    # Planned deficit band 2 and variance band 2: a pair NHS England never published.
    for code, value in (("OF0079", "-0.5"), ("OF0081", "-0.2")):
        for trust_id in trust_ids:
            Observation.objects.update_or_create(
                trust_id=trust_id,
                quarter=release.quarter,
                metric=factories.metric(code),
                defaults={"value": Decimal(value)},
            )

    with pytest.raises(FrameworkIncomplete, match="2,2"):
        computation.compute(release.pk)
    release.refresh_from_db()
    assert release.computation == Release.Computation.FAILED
    assert "2,2" in release.failure_reason


def test_it_queues_the_computation_only_after_the_transaction_commits(
    django_capture_on_commit_callbacks,
) -> None:
    release = factories.computed_release(trust_count=6)
    with mock.patch.object(tasks.compute_release, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            tasks.enqueue_compute(release)
        delay.assert_not_called()
        assert len(callbacks) == 1
        callbacks[0]()
        delay.assert_called_once_with(release.pk, False)


def test_it_recomputes_only_the_drafts_whose_inputs_changed(
    django_capture_on_commit_callbacks,
) -> None:
    release = factories.computed_release(trust_count=6)
    with mock.patch.object(tasks.compute_release, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.recompute_changed_drafts() == 0
        Observation.objects.filter(quarter=release.quarter).update(value=Decimal("1.5"))
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.recompute_changed_drafts() == 1
    delay.assert_called_once_with(release.pk, False)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_leaves_one_set_of_results_when_two_recomputes_run_at_once() -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's concurrency")
    release = factories.computed_release(trust_count=12)
    Observation.objects.filter(quarter=release.quarter).update(value=Decimal("3.3"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(computation.compute(release.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) in (
        [computation.ComputationOutcome.BUSY, computation.ComputationOutcome.COMPUTED],
        [computation.ComputationOutcome.COMPUTED, computation.ComputationOutcome.UNCHANGED],
    )
    assert TrustResult.objects.filter(release=release).count() == 12
    counted = MetricDefinition.objects.filter(framework=release.framework, counted=True).count()
    assert MetricResult.objects.filter(release=release).count() == 12 * counted


def test_it_does_not_count_computed_quartile_thresholds_as_a_change_of_input() -> None:
    release = factories.computed_release(trust_count=8)
    release.threshold_method = Release.ThresholdMethod.QUARTILES
    release.save()
    assert computation.compute(release.pk) == computation.ComputationOutcome.COMPUTED
    release.refresh_from_db()
    assert release.t1 is not None

    assert computation.compute(release.pk) == computation.ComputationOutcome.UNCHANGED
