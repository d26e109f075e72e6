"""Proposals follow the latest published table: superseded, never contradictory, escalated."""

import datetime
from typing import Any

import pytest
from django.utils import timezone

from interventions.models import FreedomGrant, SupportPlan
from interventions.services import InterventionError, support
from interventions.services.after_publication import handle_release_published
from releases.models import Release, TrustResult
from tests.factories import computed_release
from tests.interventions.conftest import Publish

pytestmark = pytest.mark.django_db

Status = SupportPlan.Status


def _q4(**overrides: int) -> Release:
    """Q4 computed as a draft, with the segments named in `overrides` forced (ODS code: segment)."""
    q4 = computed_release(trust_count=12, quarter_number=4, replicates=100, seed=11)
    for ods_code, segment in overrides.items():
        TrustResult.objects.filter(release=q4, trust__ods_code=ods_code).update(segment=segment)
    return q4


def _proposed_trusts(model: Any) -> set[str]:
    return set(model.objects.filter(status="proposed").values_list("trust__ods_code", flat=True))


def test_it_supersedes_the_earlier_tables_proposals_when_a_later_one_is_published(
    q3_release: Release, publish: Publish
) -> None:
    publish(q3_release)
    q3_plans = set(SupportPlan.objects.values_list("pk", flat=True))
    q3_grants = set(FreedomGrant.objects.values_list("pk", flat=True))
    assert q3_plans and q3_grants

    q4 = publish(_q4())

    for model, ids in ((SupportPlan, q3_plans), (FreedomGrant, q3_grants)):
        superseded = model.objects.filter(pk__in=ids)
        assert set(superseded.values_list("status", flat=True)) == {"declined"}
        for row in superseded:
            assert row.status_reason.startswith("Superseded by Q4 2025/26")
            assert row.status_changed_by is None
            latest = row.history.first()
            assert latest.history_user is None
            assert latest.history_change_reason == row.status_reason
            assert latest.prev_record.status == "proposed"  # the proposal stays in the history
    in_4_or_5 = set(
        TrustResult.objects.filter(release=q4, segment__in=[4, 5]).values_list(
            "trust__ods_code", flat=True
        )
    )
    assert _proposed_trusts(SupportPlan) == in_4_or_5
    assert set(
        SupportPlan.objects.filter(status="proposed").values_list("triggered_by", flat=True)
    ) == {q4.pk}


def test_no_trust_has_a_plan_and_freedoms_proposed_at_once(
    q3_release: Release, publish: Publish
) -> None:
    publish(q3_release)
    # T004 was segment 1 in Q3 (freedoms proposed); now segment 4. T002 the other way round.
    publish(_q4(T004=4, T002=1))

    plans, grants = _proposed_trusts(SupportPlan), _proposed_trusts(FreedomGrant)
    assert "T004" in plans and "T004" not in grants
    assert "T002" not in plans
    assert not plans & grants


def test_a_trust_that_left_segments_4_and_5_keeps_no_plan_proposal(
    q3_release: Release, publish: Publish
) -> None:
    publish(q3_release)
    assert "T002" in _proposed_trusts(SupportPlan)

    publish(_q4(T002=2))

    assert "T002" not in _proposed_trusts(SupportPlan)


def test_a_correction_to_an_older_quarter_neither_proposes_nor_supersedes(
    q3_release: Release, publish: Publish, analyst: Any
) -> None:
    from releases.services import lifecycle

    publish(q3_release)
    q4 = publish(_q4())
    before = (
        set(SupportPlan.objects.filter(status="proposed").values_list("pk", flat=True)),
        set(FreedomGrant.objects.filter(status="proposed").values_list("pk", flat=True)),
    )
    correction = lifecycle.start_correction(q3_release, analyst, "Deficit flag was wrong.")
    from releases.services import computation

    computation.compute(correction.pk)
    correction.refresh_from_db()
    publish(correction)

    after = (
        set(SupportPlan.objects.filter(status="proposed").values_list("pk", flat=True)),
        set(FreedomGrant.objects.filter(status="proposed").values_list("pk", flat=True)),
    )
    assert after == before
    assert not SupportPlan.objects.filter(triggered_by=correction).exists()
    assert Release.objects.get(pk=q4.pk).status == Release.Status.PUBLISHED


def test_a_trust_under_a_support_plan_is_not_proposed_freedoms(
    active_plans: dict[str, SupportPlan], publish: Publish
) -> None:
    publish(_q4(T002=1))

    assert not FreedomGrant.objects.filter(trust__ods_code="T002").exists()


def test_a_targeted_plan_whose_trust_falls_to_segment_5_is_proposed_escalation(
    active_plans: dict[str, SupportPlan], publish: Publish, approver: Any
) -> None:
    q4 = publish(_q4(T002=5, T011=3))

    plan = SupportPlan.objects.get(pk=active_plans["T002"].pk)
    assert plan.escalation == SupportPlan.Escalation.PROPOSED
    assert plan.escalation_release == q4
    assert "segment 5 in" in plan.escalation_reason and "Q4 2025/26" in plan.escalation_reason
    assert plan.level == SupportPlan.Level.TARGETED  # a regulator decides
    assert SupportPlan.objects.get(pk=active_plans["T011"].pk).escalation == ""
    # Idempotent: the task rerun proposes nothing more.
    assert handle_release_published(q4).escalations_proposed == 0

    escalated = support.confirm_escalation(plan, approver, "Agreed with the regional team.")
    assert escalated.level == SupportPlan.Level.INTENSIVE
    assert escalated.escalation == ""
    assert escalated.actions.count() == 1  # the plan's actions carry on
    assert escalated.history.first().history_change_reason == "Agreed with the regional team."
    with pytest.raises(InterventionError):
        support.confirm_escalation(escalated, approver, "Again.")


def test_a_trust_still_in_segment_4_past_its_review_date_is_proposed_escalation(
    active_plans: dict[str, SupportPlan], publish: Publish, approver: Any
) -> None:
    late = active_plans["T002"]
    SupportPlan.objects.filter(pk=late.pk).update(
        review_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    on_time = active_plans["T011"]
    assert on_time.review_date > timezone.localdate()  # set when the plan was confirmed

    publish(_q4(T002=4, T011=4))

    late.refresh_from_db()
    assert late.escalation == SupportPlan.Escalation.PROPOSED
    assert "after the plan's review date" in late.escalation_reason
    assert SupportPlan.objects.get(pk=on_time.pk).escalation == ""

    declined = support.decline_escalation(late, approver, "New leadership in post since May.")
    assert declined.escalation == SupportPlan.Escalation.DECLINED
    assert declined.level == SupportPlan.Level.TARGETED


def test_plans_past_their_review_date_are_flagged(
    active_plans: dict[str, SupportPlan],
) -> None:
    today = timezone.localdate()
    SupportPlan.objects.filter(pk=active_plans["T002"].pk).update(
        review_date=today - datetime.timedelta(days=3)
    )

    assert list(SupportPlan.objects.review_passed(today)) == [
        SupportPlan.objects.get(pk=active_plans["T002"].pk)
    ]
