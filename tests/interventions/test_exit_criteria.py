"""Exit criteria judged against each newly published table, and closing a plan on them."""

from decimal import Decimal
from typing import Any

import pytest

from interventions.models import CriterionEvaluation, ExitCriterion, SupportPlan
from interventions.services import InterventionError, support
from releases.models import MetricResult, Release, TrustResult
from releases.signals import release_published
from tests.factories import computed_release, metric
from tests.interventions.conftest import Publish

pytestmark = pytest.mark.django_db


def _q4(publish: Publish) -> Release:
    return publish(computed_release(trust_count=12, quarter_number=4, replicates=100, seed=11))


def test_it_does_not_judge_a_plan_by_the_table_that_triggered_it(
    active_plans: dict[str, SupportPlan],
) -> None:
    assert not CriterionEvaluation.objects.exists()


def test_it_evaluates_exit_criteria_against_the_next_published_release_with_the_right_figures(
    active_plans: dict[str, SupportPlan], q3_release: Release, publish: Publish
) -> None:
    plan = active_plans["T002"]
    by_metric = ExitCriterion.objects.create(
        plan=plan, kind="metric_score", metric=metric("OF0016"), threshold=Decimal("2.5")
    )
    by_average = ExitCriterion.objects.create(plan=plan, kind="average", threshold=Decimal("3.2"))
    by_segment = plan.exit_criteria.get(kind="segment")

    q4 = _q4(publish)

    row = TrustResult.objects.get(release=q4, trust=plan.trust)
    score = MetricResult.objects.get(release=q4, trust=plan.trust, metric__code="OF0016").score
    q3_row = TrustResult.objects.get(release=q3_release, trust=plan.trust)

    evaluation = by_metric.evaluations.get()
    assert evaluation.release == q4
    assert evaluation.figures == {
        "quarter": "Q4 2025/26",
        "metric": "OF0016",
        "score": float(score),
        "threshold": 2.5,
    }
    assert evaluation.met is (score <= Decimal("2.5"))

    evaluation = by_average.evaluations.get()
    assert evaluation.figures["average_score"] == float(row.average_score) == 3.19
    assert evaluation.met is True
    assert evaluation.summary == "Average 3.19 in Q4 2025/26 (at most 3.2): met"

    evaluation = by_segment.evaluations.get()
    assert evaluation.figures == {
        "max_segment": 3,
        "consecutive_quarters": 2,
        "segments": [
            {"quarter": "Q4 2025/26", "release": q4.pk, "segment": row.segment},
            {"quarter": "Q3 2025/26", "release": q3_release.pk, "segment": q3_row.segment},
        ],
    }
    assert evaluation.met is False  # segment 4 in both quarters

    # Every plan open before Q4 was judged on it, once per criterion; the plan Q4 itself
    # proposed (T006, now in segment 4) was not.
    judged = ExitCriterion.objects.filter(plan__triggered_by=q3_release)
    assert CriterionEvaluation.objects.filter(release=q4).count() == judged.count() == 5
    assert not CriterionEvaluation.objects.filter(criterion__plan__triggered_by=q4).exists()


def test_it_evaluates_each_criterion_once_per_release(
    active_plans: dict[str, SupportPlan],
    publish: Publish,
    django_capture_on_commit_callbacks: Any,
) -> None:
    q4 = _q4(publish)
    count = CriterionEvaluation.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        release_published.send(sender=Release, release=q4)
    support.evaluate_exit_criteria(q4)

    assert CriterionEvaluation.objects.count() == count == 3


def test_it_refuses_to_close_a_plan_whose_criteria_are_not_all_met(
    active_plans: dict[str, SupportPlan], publish: Publish, approver: Any
) -> None:
    plan = active_plans["T002"]
    with pytest.raises(InterventionError, match="not yet evaluated"):
        support.close_plan(plan, approver, "Looks better.")

    _q4(publish)

    with pytest.raises(InterventionError, match="not met"):
        support.close_plan(plan, approver, "Looks better.")
    plan.refresh_from_db()
    assert plan.status == SupportPlan.Status.ACTIVE


def test_it_closes_a_plan_once_a_regulator_accepts_its_met_criteria(
    active_plans: dict[str, SupportPlan], publish: Publish, approver: Any
) -> None:
    plan = active_plans["T011"]
    plan.exit_criteria.update(consecutive_quarters=1)  # segment 3 or better in one quarter

    q4 = _q4(publish)
    assert TrustResult.objects.get(release=q4, trust=plan.trust).segment == 1

    support.close_plan(plan, approver, "Segment 1 in Q4: exit agreed at the review meeting.")

    plan.refresh_from_db()
    assert plan.status == SupportPlan.Status.CLOSED
    latest = plan.history.first()
    assert latest.history_user == approver
    assert latest.history_change_reason == "Segment 1 in Q4: exit agreed at the review meeting."


def test_it_refuses_to_close_a_plan_without_exit_criteria(
    active_plans: dict[str, SupportPlan], approver: Any
) -> None:
    plan = active_plans["T011"]
    plan.exit_criteria.all().delete()

    with pytest.raises(InterventionError, match="no exit criteria"):
        support.close_plan(plan, approver, "Done.")


def test_it_counts_only_evaluations_against_tables_still_published(
    active_plans: dict[str, SupportPlan],
    publish: Publish,
    approver: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from releases.services import lifecycle

    plan = active_plans["T011"]
    plan.exit_criteria.update(consecutive_quarters=1)
    q4 = _q4(publish)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.withdraw(q4, approver, "Wrong thresholds.")

    with pytest.raises(InterventionError, match="not yet evaluated"):
        support.close_plan(plan, approver, "Segment 1 in Q4.")
