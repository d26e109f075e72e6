"""What publishing (and withdrawing) a release does to freedoms and support plans."""

from typing import Any

import pytest

from interventions.models import ExitCriterion, FreedomGrant, FreedomType, SupportPlan
from interventions.services import freedoms
from interventions.services.after_publication import handle_release_published
from interventions.tasks import process_published_release
from releases.models import Release, TrustResult
from releases.services import lifecycle
from releases.signals import release_published
from tests.factories import computed_release
from tests.interventions.conftest import Publish

pytestmark = pytest.mark.django_db


def _codes(queryset: Any) -> set[str]:
    return set(queryset.values_list("trust__ods_code", flat=True))


def test_it_proposes_freedoms_for_exactly_the_eligible_trusts(
    q3_release: Release, publish: Publish
) -> None:
    publish(q3_release)

    results = TrustResult.objects.filter(release=q3_release)
    eligible = _codes(results.filter(segment=1, in_financial_deficit=False))
    assert eligible == {"T004", "T010"}  # T005 is in segment 1 by score but in deficit
    grants = FreedomGrant.objects.all()
    assert _codes(grants) == eligible
    assert grants.count() == len(eligible) * FreedomType.objects.filter(is_active=True).count()
    assert set(grants.values_list("status", flat=True)) == {FreedomGrant.Status.PROPOSED}
    assert set(grants.values_list("earned_by", flat=True)) == {q3_release.pk}
    grant = grants.filter(trust__ods_code="T004").first()
    assert "segment 1, not in deficit" in grant.status_reason
    assert grant.history.get().history_change_reason == grant.status_reason


def test_it_follows_the_frameworks_eligibility_rule(q3_release: Release, publish: Publish) -> None:
    framework = q3_release.framework
    framework.freedom_max_segment = 3
    framework.freedom_requires_no_deficit = False
    framework.save()

    publish(q3_release)

    expected = _codes(TrustResult.objects.filter(release=q3_release, segment__lte=3))
    assert {"T001", "T005"} <= expected  # in deficit, so capped at segment 3, but eligible now
    assert _codes(FreedomGrant.objects.all()) == expected


def test_it_proposes_plans_for_exactly_the_segment_4_and_5_trusts(
    q3_release: Release, publish: Publish
) -> None:
    publish(q3_release)

    results = TrustResult.objects.filter(release=q3_release)
    assert _codes(results.filter(segment__in=[4, 5])) == {"T002", "T011", "T003"}
    levels = dict(SupportPlan.objects.values_list("trust__ods_code", "level"))
    assert levels == {"T002": "targeted", "T011": "targeted", "T003": "intensive"}
    assert set(SupportPlan.objects.values_list("status", flat=True)) == {"proposed"}
    assert set(SupportPlan.objects.values_list("triggered_by", flat=True)) == {q3_release.pk}
    targeted = ExitCriterion.objects.get(plan__trust__ods_code="T002")
    assert (targeted.kind, targeted.max_segment, targeted.consecutive_quarters) == (
        "segment",
        3,
        2,
    )


def test_it_proposes_nothing_twice_when_published_again(
    q3_release: Release, publish: Publish, django_capture_on_commit_callbacks: Any
) -> None:
    publish(q3_release)
    counts = (
        FreedomGrant.objects.count(),
        SupportPlan.objects.count(),
        ExitCriterion.objects.count(),
        FreedomGrant.history.count(),
        SupportPlan.history.count(),
    )

    # The signal delivered again, the task rerun, and the service called directly.
    with django_capture_on_commit_callbacks(execute=True):
        release_published.send(sender=Release, release=q3_release)
        release_published.send(sender=Release, release=q3_release)
    process_published_release.delay(q3_release.pk)
    outcome = handle_release_published(q3_release)

    assert outcome.freedoms_proposed == outcome.plans_proposed == 0
    assert counts == (
        FreedomGrant.objects.count(),
        SupportPlan.objects.count(),
        ExitCriterion.objects.count(),
        FreedomGrant.history.count(),
        SupportPlan.history.count(),
    )


def test_it_does_not_propose_again_what_a_regulator_declined(
    q3_release: Release, publish: Publish, approver: Any
) -> None:
    from interventions.services import support

    publish(q3_release)
    plan = SupportPlan.objects.get(trust__ods_code="T002")
    support.decline_plan(plan, approver, "Already in a system-led recovery programme.")
    grant = FreedomGrant.objects.filter(trust__ods_code="T004").first()
    freedoms.decline_grant(grant, approver, "Not appropriate while the CQC inspection is open.")

    handle_release_published(q3_release)

    assert SupportPlan.objects.filter(trust__ods_code="T002").count() == 1
    assert (
        FreedomGrant.objects.filter(trust__ods_code="T004", freedom_type=grant.freedom_type).count()
        == 1
    )


def test_it_queues_the_work_only_once_the_publication_commits(
    q3_release: Release, django_capture_on_commit_callbacks: Any
) -> None:
    Release.objects.filter(pk=q3_release.pk).update(status=Release.Status.PUBLISHED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        release_published.send(sender=Release, release=q3_release)

    assert len(callbacks) == 1
    assert not SupportPlan.objects.exists()
    callbacks[0]()
    assert SupportPlan.objects.count() == 3


def test_it_ignores_a_release_that_is_not_published(q3_release: Release) -> None:
    outcome = handle_release_published(q3_release)  # still a draft

    assert outcome.freedoms_proposed == outcome.plans_proposed == 0
    assert not FreedomGrant.objects.exists()


def test_it_puts_granted_freedoms_under_review_when_a_later_table_shows_them_ineligible(
    q3_release: Release, publish: Publish, approver: Any
) -> None:
    publish(q3_release)
    for grant in FreedomGrant.objects.filter(trust__ods_code="T004"):
        freedoms.confirm_grant(grant, approver, "Segment 1 two quarters running.")

    q4 = computed_release(trust_count=12, quarter_number=4, replicates=100, seed=11)
    publish(q4)

    result = TrustResult.objects.get(release=q4, trust__ods_code="T004")
    assert result.segment == 3
    flagged = FreedomGrant.objects.filter(trust__ods_code="T004")
    assert set(flagged.values_list("status", flat=True)) == {FreedomGrant.Status.UNDER_REVIEW}
    latest = flagged.first().history.first()
    assert latest.history_user is None
    assert latest.history_change_reason.startswith("No longer eligible: segment 3")
    assert "Q4 2025/26" in latest.history_change_reason
    # Never revoked by a table alone, and the trusts now eligible get proposals.
    assert not FreedomGrant.objects.filter(status=FreedomGrant.Status.REVOKED).exists()
    newly_eligible = _codes(
        TrustResult.objects.filter(release=q4, segment=1, in_financial_deficit=False)
    )
    assert _codes(FreedomGrant.objects.filter(earned_by=q4)) == newly_eligible


def test_it_declines_open_proposals_of_a_withdrawn_release(
    q3_release: Release,
    publish: Publish,
    approver: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from interventions.services import support

    publish(q3_release)
    kept = support.confirm_plan(
        SupportPlan.objects.get(trust__ods_code="T002"), approver, "Agreed."
    )

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.withdraw(q3_release, approver, "Wrong deficit flags in the source file.")

    kept.refresh_from_db()
    assert kept.status == SupportPlan.Status.ACTIVE
    declined = SupportPlan.objects.exclude(pk=kept.pk)
    assert set(declined.values_list("status", flat=True)) == {SupportPlan.Status.DECLINED}
    assert set(FreedomGrant.objects.values_list("status", flat=True)) == {
        FreedomGrant.Status.DECLINED
    }
    assert "withdrawn" in declined.first().status_reason
