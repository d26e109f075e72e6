"""Which numbers of a release are synthetic (releases.synthetic): values, the scores computed
from them (ranked against a pool, or looked up from other scores), rows, metrics, releases."""

import pytest

from metrics.models import ImportRun, Metric, Observation, TrustQuarterStatus
from releases.models import MetricResult, TrustResult
from releases.selectors import DERIVED_MARK, SYNTHETIC_MARK, trust_data_csv
from releases.services import computation
from releases.synthetic import NOTHING_SYNTHETIC, synthetic_values, synthetic_values_of
from tests.factories import computed_release, make_trusts, quarter, synthetic_acute_release

pytestmark = pytest.mark.django_db


def code_of(metric_id: int) -> str:
    return Metric.objects.get(pk=metric_id).code


def all_real() -> None:
    """Turn the demonstration's inputs into real ones, so one synthetic input can be added."""
    Observation.objects.update(is_synthetic=False)
    Metric.objects.update(is_synthetic=False)
    TrustQuarterStatus.objects.update(import_run=None)


def one_trust(release) -> int:
    return TrustResult.objects.filter(release=release).order_by("trust__ods_code")[0].trust_id


def test_every_number_of_a_demonstration_acute_release_is_synthetic():
    release = synthetic_acute_release()
    synthetic = synthetic_values(release)

    stored = set(MetricResult.objects.filter(release=release).values_list("trust_id", "metric_id"))
    assert synthetic.results == stored
    assert synthetic.rows == set(
        TrustResult.objects.filter(release=release).values_list("trust_id", flat=True)
    )
    # OF1080 has no observation and its metric is not marked: its inputs make it synthetic.
    assert "OF1080" in synthetic.metric_codes
    assert not Metric.objects.get(code="OF1080").is_synthetic
    assert synthetic.release


def test_a_looked_up_score_is_synthetic_for_the_trusts_whose_inputs_are():
    release = synthetic_acute_release()
    all_real()
    trust = one_trust(release)
    Observation.objects.filter(
        trust_id=trust, quarter=release.quarter, metric__code="OF0079"
    ).update(is_synthetic=True)

    synthetic = synthetic_values(release)

    assert {(trust_id, code_of(metric_id)) for trust_id, metric_id in synthetic.results} == {
        (trust, "OF0079"),
        (trust, "OF1080"),
    }
    # OF0079 is not counted on its own, but OF1080, computed from it, is.
    assert synthetic.rows == {trust}
    assert synthetic.metric_codes == ("OF0079", "OF1080")


def test_one_synthetic_value_in_a_pool_makes_every_ranked_score_of_it_synthetic():
    release = synthetic_acute_release()
    all_real()
    trust = one_trust(release)
    Observation.objects.filter(trust_id=trust, quarter=release.quarter, metric__code="AE4H").update(
        is_synthetic=True
    )

    synthetic = synthetic_values(release)

    trusts = set(TrustResult.objects.filter(release=release).values_list("trust_id", flat=True))
    assert {code_of(metric_id) for _, metric_id in synthetic.results} == {"AE4H"}
    assert {trust_id for trust_id, _ in synthetic.results} == trusts
    assert synthetic.rows == trusts


def test_a_metric_marked_synthetic_marks_every_result_of_it():
    release = synthetic_acute_release()
    all_real()
    Metric.objects.filter(code="RTT18").update(is_synthetic=True)

    synthetic = synthetic_values(release)

    assert synthetic.metric_codes == ("RTT18",)
    assert (
        len(synthetic.results)
        == MetricResult.objects.filter(release=release, metric__code="RTT18").count()
    )


def test_flags_from_the_synthetic_demonstration_mark_the_row_alone():
    release = synthetic_acute_release()
    all_real()
    trust = one_trust(release)
    run = ImportRun.objects.filter(kind=ImportRun.Kind.SYNTHETIC).get()
    TrustQuarterStatus.objects.filter(trust_id=trust, quarter=release.quarter).update(
        import_run=run
    )

    synthetic = synthetic_values(release)

    assert synthetic.rows == {trust}
    assert not synthetic.results
    assert synthetic.release


def test_real_inputs_make_nothing_synthetic_in_one_query(django_assert_num_queries):
    release = synthetic_acute_release()
    all_real()
    with django_assert_num_queries(1):
        assert synthetic_values(release) is NOTHING_SYNTHETIC


def test_a_supplied_score_is_not_reached_by_a_synthetic_national_pool():
    """NHS England ranks OF0082 over every trust; the demonstration's synthetic acute values
    are in that pool. A mental health table replaying NHS England's supplied scores is real."""
    release = computed_release(trust_count=8, replicates=40)
    acute = make_trusts(2, peer_group="acute", prefix="A")
    Observation.objects.bulk_create(
        Observation(
            trust=trust,
            metric=Metric.objects.get(code="OF0082"),
            quarter=quarter(4),
            value=5,
            is_synthetic=True,
        )
        for trust in acute
    )
    assert release.use_supplied_scores
    assert synthetic_values(release) is NOTHING_SYNTHETIC

    # Ranked for itself, each trust's OF0082 score does come from the synthetic values.
    type(release).objects.filter(pk=release.pk).update(use_supplied_scores=False)
    computation.compute(release.pk, force=True)
    release.refresh_from_db()
    synthetic = synthetic_values(release)
    assert synthetic.metric_codes == ("OF0082",)
    assert synthetic.rows == set(
        TrustResult.objects.filter(release=release).values_list("trust_id", flat=True)
    )


def test_any_number_of_releases_costs_the_same_queries(django_assert_max_num_queries):
    acute = synthetic_acute_release()
    mental_health = computed_release(trust_count=8, replicates=40)
    earlier = synthetic_acute_release(quarter_number=3)
    with django_assert_max_num_queries(7):
        answers = synthetic_values_of([acute, mental_health, earlier])
    assert answers[acute.pk].release and answers[earlier.pk].release
    assert answers[mental_health.pk] is NOTHING_SYNTHETIC


def test_nhs_englands_data_file_says_what_is_synthetic_in_its_descriptions():
    release = synthetic_acute_release()
    text = trust_data_csv(release)
    lines = text.splitlines()[1:]
    assert lines
    for line in lines:
        assert SYNTHETIC_MARK in line or DERIVED_MARK in line, line
    combined = [line for line in lines if ",OF1080," in line]
    assert combined and all(f"Combined finance{DERIVED_MARK}" in line for line in combined)


def test_a_real_data_file_is_unmarked():
    text = trust_data_csv(computed_release(trust_count=8, replicates=40))
    assert "synthetic" not in text
