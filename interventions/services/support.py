"""Support plans: proposing them, judging exit criteria on published data, and their actions."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from interventions.evidence import validate_evidence_file, validate_progress_date
from interventions.models import (
    ActionUpdate,
    CriterionEvaluation,
    ExitCriterion,
    SupportAction,
    SupportPlan,
)
from interventions.notifications import tell_regulator_lead
from interventions.services import InterventionError
from interventions.services._audit import refuse_unless, require_reason, save_transition
from interventions.services._releases import (
    is_latest_published,
    locked_if_published,
    supersede_proposals,
)
from releases.models import MetricResult, Release, TrustResult

Level = SupportPlan.Level
PlanStatus = SupportPlan.Status
Kind = ExitCriterion.Kind


@dataclass(frozen=True)
class CriterionTemplate:
    kind: str
    max_segment: int | None = None
    consecutive_quarters: int = 1
    threshold: Decimal | None = None


# What a new plan must show before it can close, until the regulator tailors it: out of the
# segment that triggered it, and staying out for two published quarters.
DEFAULT_EXIT_CRITERIA: dict[str, list[CriterionTemplate]] = {
    Level.TARGETED: [CriterionTemplate(Kind.SEGMENT, max_segment=3, consecutive_quarters=2)],
    Level.INTENSIVE: [CriterionTemplate(Kind.SEGMENT, max_segment=4, consecutive_quarters=2)],
}


def propose_for_release(release: Release) -> list[SupportPlan]:
    """Propose a plan, with default exit criteria, for each segment 4 and 5 trust of the table.

    Idempotent: a trust with an open plan keeps it, and a trust whose plan from this quarter's
    table (any revision) a regulator declined is not proposed another. Only the peer group's
    latest published table proposes anything.
    """
    with transaction.atomic():
        release = locked_if_published(release)
        if release is None or not is_latest_published(release):
            return []
        results = list(
            TrustResult.objects.filter(release=release, segment__in=SupportPlan.LEVEL_FOR_SEGMENT)
        )
        considered = set(
            SupportPlan.objects.filter(trust_id__in=[r.trust_id for r in results])
            .filter(
                Q(status__in=SupportPlan.OPEN_STATUSES)
                | Q(
                    triggered_by__quarter_id=release.quarter_id,
                    triggered_by__peer_group_id=release.peer_group_id,
                    status_changed_by__isnull=False,
                )
            )
            .values_list("trust_id", flat=True)
        )
        now = timezone.now()
        proposals = []
        for result in results:
            if result.trust_id in considered:
                continue
            level = SupportPlan.LEVEL_FOR_SEGMENT[result.segment]
            reason = f"Proposed on publication: segment {result.segment} in {release}."
            plan = SupportPlan(
                trust_id=result.trust_id,
                level=level,
                triggered_by=release,
                status=PlanStatus.PROPOSED,
                status_reason=reason,
                status_changed_at=now,
            )
            plan._change_reason = reason  # type: ignore[attr-defined]
            proposals.append(plan)
        plans = bulk_create_with_history(proposals, SupportPlan)
        criteria = []
        for plan in plans:
            for template in DEFAULT_EXIT_CRITERIA[plan.level]:
                criterion = ExitCriterion(
                    plan=plan,
                    kind=template.kind,
                    max_segment=template.max_segment,
                    consecutive_quarters=template.consecutive_quarters,
                    threshold=template.threshold,
                )
                criterion._change_reason = "Default exit criterion for the support level."  # type: ignore[attr-defined]
                criteria.append(criterion)
        bulk_create_with_history(criteria, ExitCriterion)
        return plans


def supersede_earlier_proposals(release: Release) -> list[SupportPlan]:
    """Decline the peer group's plan proposals from earlier tables once a later one is published.

    A trust that has left segments 4 and 5 so keeps no proposal, and one still there is
    proposed afresh by the new table, at the level it now calls for.
    """
    return supersede_proposals(
        release,
        SupportPlan.objects.filter(status=PlanStatus.PROPOSED),
        "triggered_by",
        decline_plan,
    )


def propose_escalations(release: Release) -> list[SupportPlan]:
    """Propose intensive support for targeted plans the latest table shows are not working.

    A trust under an active targeted plan that falls to segment 5, or is still in segment 4 or 5
    after the plan's review date, is proposed an escalation; a regulator decides. Idempotent: a
    plan is proposed an escalation at most once per release, and never while one is open.
    """
    with transaction.atomic():
        release = locked_if_published(release)
        if release is None or not is_latest_published(release):
            return []
        segments = dict(
            TrustResult.objects.filter(
                release=release, segment__in=SupportPlan.LEVEL_FOR_SEGMENT
            ).values_list("trust_id", "segment")
        )
        plans = (
            SupportPlan.objects.select_for_update(of=("self",))
            .filter(status=PlanStatus.ACTIVE, level=Level.TARGETED, trust_id__in=segments)
            .exclude(escalation=SupportPlan.Escalation.PROPOSED)
            .exclude(escalation_release=release)
            .exclude(triggered_by=release)
            .select_related("triggered_by__quarter")
        )
        published_on = timezone.localdate(release.published_at or timezone.now())
        escalated = []
        for plan in plans:
            if release.quarter.key < plan.triggered_by.quarter.key:
                continue
            segment = segments[plan.trust_id]
            if segment == 5:
                why = f"segment 5 in {release}"
            elif plan.review_date is not None and plan.review_date < published_on:
                why = (
                    f"still in segment {segment} in {release}, after the plan's review date "
                    f"of {plan.review_date:%-d %B %Y}"
                )
            else:
                continue
            reason = f"Escalation to intensive support proposed: {why}."
            plan.escalation = SupportPlan.Escalation.PROPOSED
            plan.escalation_release = release
            plan.escalation_reason = reason
            save_transition(
                plan,
                user=None,
                reason=reason,
                update_fields=["escalation", "escalation_release", "escalation_reason"],
                status_change=False,
            )
            escalated.append(plan)
        return escalated


def _published_quarters_up_to(release: Release) -> list[Release]:
    """The peer group's published tables up to this release's quarter, newest first, one each."""
    year, number = release.quarter.key
    releases = (
        Release.objects.filter(peer_group_id=release.peer_group_id, status=Release.Status.PUBLISHED)
        .filter(
            Q(quarter__year_start__lt=year)
            | Q(quarter__year_start=year, quarter__number__lte=number)
        )
        .select_related("quarter")
        .order_by("-quarter__year_start", "-quarter__number", "-revision")
    )
    by_quarter: dict[int, Release] = {}
    for candidate in releases:
        by_quarter.setdefault(candidate.quarter_id, candidate)
    return list(by_quarter.values())


def _score(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _evaluate(
    criterion: ExitCriterion,
    release: Release,
    result: TrustResult,
    metric_scores: dict[tuple[int, int], Decimal | None],
    window: list[Release],
    segments: dict[tuple[int, int], int | None],
) -> CriterionEvaluation:
    quarter = release.quarter.label
    if criterion.kind == Kind.METRIC_SCORE:
        code = criterion.metric.code
        score = metric_scores.get((result.trust_id, criterion.metric_id))
        met = score is not None and score <= criterion.threshold
        figures = {
            "quarter": quarter,
            "metric": code,
            "score": _score(score),
            "threshold": _score(criterion.threshold),
        }
        shown = "no score" if score is None else f"score {score:.2f}"
        summary = f"{code} {shown} in {quarter} (at most {_score(criterion.threshold)})"
    elif criterion.kind == Kind.AVERAGE:
        average = result.average_score
        met = average is not None and average <= criterion.threshold
        figures = {
            "quarter": quarter,
            "average_score": _score(average),
            "threshold": _score(criterion.threshold),
        }
        shown = "no average" if average is None else f"average {average:.2f}"
        summary = f"{shown.capitalize()} in {quarter} (at most {_score(criterion.threshold)})"
    else:
        needed = criterion.consecutive_quarters
        quarters = [
            {
                "quarter": published.quarter.label,
                "release": published.pk,
                "segment": segments.get((published.pk, result.trust_id)),
            }
            for published in window[:needed]
        ]
        met = len(quarters) == needed and all(
            q["segment"] is not None and q["segment"] <= criterion.max_segment for q in quarters
        )
        figures = {
            "max_segment": criterion.max_segment,
            "consecutive_quarters": needed,
            "segments": quarters,
        }
        listed = ", ".join(f"{q['quarter']}: segment {q['segment'] or '-'}" for q in quarters)
        summary = f"{listed} (needs segment {criterion.max_segment} or better for {needed})"
    verdict = "met" if met else "not met"
    return CriterionEvaluation(
        criterion=criterion,
        release=release,
        met=met,
        figures=figures,
        summary=f"{summary}: {verdict}"[:500],
    )


def evaluate_exit_criteria(release: Release) -> list[CriterionEvaluation]:
    """Judge every open plan's exit criteria against a newly published release.

    Only tables of a later quarter than the one that triggered the plan count: the triggering
    table (or its correction) is why the plan exists, not evidence that it worked. Idempotent:
    a criterion is evaluated once per release.
    """
    with transaction.atomic():
        release = locked_if_published(release)
        if release is None:
            return []
        results = {r.trust_id: r for r in TrustResult.objects.filter(release=release)}
        criteria = [
            criterion
            for criterion in ExitCriterion.objects.filter(
                plan__status__in=SupportPlan.OPEN_STATUSES, plan__trust_id__in=results
            )
            .exclude(evaluations__release=release)
            .select_related("plan__triggered_by__quarter", "metric")
            if criterion.plan.triggered_by.quarter.key < release.quarter.key
        ]
        if not criteria:
            return []
        trust_ids = {criterion.plan.trust_id for criterion in criteria}
        metric_ids = {c.metric_id for c in criteria if c.kind == Kind.METRIC_SCORE}
        metric_scores = {
            (trust_id, metric_id): score
            for trust_id, metric_id, score in MetricResult.objects.filter(
                release=release, trust_id__in=trust_ids, metric_id__in=metric_ids
            ).values_list("trust_id", "metric_id", "score")
        }
        longest = max(
            (c.consecutive_quarters for c in criteria if c.kind == Kind.SEGMENT), default=0
        )
        window = _published_quarters_up_to(release)[:longest]
        segments = {
            (release_id, trust_id): segment
            for release_id, trust_id, segment in TrustResult.objects.filter(
                release__in=window, trust_id__in=trust_ids
            ).values_list("release_id", "trust_id", "segment")
        }
        evaluations = [
            _evaluate(c, release, results[c.plan.trust_id], metric_scores, window, segments)
            for c in criteria
        ]
        # A concurrent run for the same release is serialised by the release lock; the
        # constraint is the backstop if anything else ever evaluates.
        CriterionEvaluation.objects.bulk_create(evaluations, ignore_conflicts=True)
        return evaluations


def latest_evaluation(criterion: ExitCriterion) -> CriterionEvaluation | None:
    """The evaluation against the newest table still published (withdrawn ones do not count)."""
    return (
        criterion.evaluations.filter(release__status=Release.Status.PUBLISHED)
        .newest_first()
        .first()
    )


def _locked_plan(plan: SupportPlan) -> SupportPlan:
    return SupportPlan.objects.select_for_update().get(pk=plan.pk)


def confirm_plan(
    plan: SupportPlan, user: Any, reason: str, *, regulator_lead: Any = None
) -> SupportPlan:
    """A regulator confirms a proposed plan; they lead it unless they name someone else."""
    reason = require_reason(reason)
    with transaction.atomic():
        plan = _locked_plan(plan)
        refuse_unless(plan.status, (PlanStatus.PROPOSED,), "This plan", plan.get_status_display())
        plan.status = PlanStatus.ACTIVE
        plan.regulator_lead = regulator_lead or plan.regulator_lead or user
        plan.review_date = (
            plan.review_date or timezone.localdate() + SupportPlan.DEFAULT_REVIEW_AFTER
        )
        save_transition(
            plan,
            user=user,
            reason=reason,
            update_fields=["status", "regulator_lead", "review_date"],
        )
    return plan


def confirm_escalation(plan: SupportPlan, user: Any, reason: str) -> SupportPlan:
    """A regulator moves a targeted plan to intensive support; its actions and criteria stay."""
    reason = require_reason(reason)
    with transaction.atomic():
        plan = _locked_plan(plan)
        refuse_unless(plan.status, (PlanStatus.ACTIVE,), "This plan", plan.get_status_display())
        if plan.escalation != SupportPlan.Escalation.PROPOSED:
            raise InterventionError("No escalation is proposed for this plan.")
        plan.level = Level.INTENSIVE
        plan.escalation = SupportPlan.Escalation.NONE
        save_transition(plan, user=user, reason=reason, update_fields=["level", "escalation"])
    return plan


def decline_escalation(plan: SupportPlan, user: Any, reason: str) -> SupportPlan:
    """The plan stays targeted; a later table may propose escalation again."""
    reason = require_reason(reason)
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.escalation != SupportPlan.Escalation.PROPOSED:
            raise InterventionError("No escalation is proposed for this plan.")
        plan.escalation = SupportPlan.Escalation.DECLINED
        save_transition(
            plan, user=user, reason=reason, update_fields=["escalation"], status_change=False
        )
    return plan


def decline_plan(plan: SupportPlan, user: Any, reason: str) -> SupportPlan:
    reason = require_reason(reason)
    with transaction.atomic():
        plan = _locked_plan(plan)
        refuse_unless(plan.status, (PlanStatus.PROPOSED,), "This plan", plan.get_status_display())
        plan.status = PlanStatus.DECLINED
        save_transition(plan, user=user, reason=reason, update_fields=["status"])
    return plan


def unmet_criteria(plan: SupportPlan) -> list[str]:
    """Why the plan cannot close yet: one line per criterion not met in its latest evaluation."""
    criteria = list(plan.exit_criteria.select_related("metric"))
    if not criteria:
        return ["The plan has no exit criteria to judge it by."]
    unmet = []
    for criterion in criteria:
        latest = latest_evaluation(criterion)
        if latest is None:
            unmet.append(f"{criterion}: not yet evaluated against a later published table.")
        elif not latest.met:
            unmet.append(f"{criterion}: {latest.summary}")
    return unmet


def close_plan(plan: SupportPlan, user: Any, reason: str) -> SupportPlan:
    """A regulator accepts that the plan's exit criteria are met and closes it.

    Refused unless the latest evaluation of every criterion is met: the decision is the
    regulator's, but it must rest on published data.
    """
    reason = require_reason(reason)
    with transaction.atomic():
        plan = _locked_plan(plan)
        refuse_unless(plan.status, (PlanStatus.ACTIVE,), "This plan", plan.get_status_display())
        unmet = unmet_criteria(plan)
        if unmet:
            raise InterventionError("The exit criteria are not all met: " + " ".join(unmet))
        plan.status = PlanStatus.CLOSED
        plan.closed_at = timezone.now()
        save_transition(plan, user=user, reason=reason, update_fields=["status", "closed_at"])
    return plan


def set_plan_public(plan: SupportPlan, user: Any, is_public: bool, reason: str) -> SupportPlan:
    """Show or hide the plan's support level on the public pages (shown only while active)."""
    reason = require_reason(reason)
    with transaction.atomic():
        plan = _locked_plan(plan)
        plan.is_public = is_public
        save_transition(
            plan, user=user, reason=reason, update_fields=["is_public"], status_change=False
        )
    return plan


def decline_proposals_of_withdrawn(release: Release) -> list[SupportPlan]:
    """Plans proposed from a withdrawn table have lost their basis; active plans carry on."""
    declined = []
    for plan in SupportPlan.objects.filter(triggered_by=release, status=PlanStatus.PROPOSED):
        try:
            declined.append(
                decline_plan(plan, None, f"{release} was withdrawn before a decision was made.")
            )
        except InterventionError:
            continue  # a regulator decided it meanwhile; their decision stands
    return declined


def _locked_action_for_contributor(action: SupportAction, user: Any) -> SupportAction:
    """The action, locked, if `user` may add to it: a regulator, or a board member of its trust.

    Checked here as well as in the views, so no caller can forget it.
    """
    visible = SupportAction.objects.visible_to(user).filter(pk=action.pk)
    locked = SupportAction.objects.select_for_update().filter(pk__in=visible.values("pk")).first()
    if locked is None:
        raise PermissionDenied("You cannot change this action.")
    if locked.plan.status != PlanStatus.ACTIVE:
        raise InterventionError("The plan is not active: its actions can no longer change.")
    return locked


def add_action_update(
    action: SupportAction,
    author: Any,
    text: str,
    *,
    date: datetime.date | None = None,
    evidence_file: UploadedFile | None = None,
    evidence_link: str = "",
) -> ActionUpdate:
    """A dated progress note on an action, with evidence uploaded or linked."""
    text = (text or "").strip()
    if not text:
        raise InterventionError("Say what has happened: an update needs some text.")
    try:
        validate_progress_date(date or timezone.localdate())
        if evidence_file is not None:
            validate_evidence_file(evidence_file)
    except ValidationError as refusal:
        raise InterventionError(" ".join(refusal.messages)) from refusal
    with transaction.atomic():
        action = _locked_action_for_contributor(action, author)
        refusal = action.closed_to_progress()
        if refusal:
            raise InterventionError(refusal)
        update = ActionUpdate(
            action=action,
            date=date or timezone.localdate(),
            text=text,
            author=author,
            evidence_link=evidence_link or "",
        )
        if evidence_file is not None:
            update.evidence_file = evidence_file
        update.save()
        _tell_regulator_lead_on_commit(update)
        if action.status == SupportAction.Status.NOT_STARTED:
            action.status = SupportAction.Status.IN_PROGRESS
            save_transition(
                action,
                user=author,
                reason="Progress reported.",
                update_fields=["status"],
                status_change=False,
            )
    return update


def propose_action_complete(action: SupportAction, user: Any, note: str) -> SupportAction:
    """The trust says an action is done; it stays open until a regulator confirms."""
    note = require_reason(note)
    with transaction.atomic():
        action = _locked_action_for_contributor(action, user)
        refusal = action.closed_to_proposal()
        if refusal:
            raise InterventionError(refusal)
        action.proposed_complete = True
        action.proposed_complete_at = timezone.now()
        action.proposed_complete_by = user
        save_transition(
            action,
            user=user,
            reason=f"Proposed as complete: {note}",
            update_fields=["proposed_complete", "proposed_complete_at", "proposed_complete_by"],
            status_change=False,
        )
        update = ActionUpdate.objects.create(
            action=action,
            date=timezone.localdate(),
            text=f"Proposed as complete: {note}",
            author=user,
            proposes_complete=True,
        )
        _tell_regulator_lead_on_commit(update)
    return action


def _tell_regulator_lead_on_commit(update: ActionUpdate) -> None:
    update_id = update.pk
    transaction.on_commit(lambda: tell_regulator_lead.delay(update_id))


def _locked_action(action: SupportAction) -> SupportAction:
    return SupportAction.objects.select_for_update().get(pk=action.pk)


def confirm_action_complete(action: SupportAction, user: Any, reason: str) -> SupportAction:
    """A regulator accepts that an action is done."""
    reason = require_reason(reason)
    with transaction.atomic():
        action = _locked_action(action)
        if action.status in SupportAction.FINISHED_STATUSES:
            raise InterventionError("This action is already finished.")
        action.status = SupportAction.Status.COMPLETE
        action.rag = SupportAction.Rag.GREEN
        action.completed_at = timezone.now()
        save_transition(
            action,
            user=user,
            reason=reason,
            update_fields=["status", "rag", "completed_at"],
            status_change=False,
        )
    return action


def reject_action_complete(action: SupportAction, user: Any, reason: str) -> SupportAction:
    """A regulator does not accept the trust's proposal: the action stays open."""
    reason = require_reason(reason)
    with transaction.atomic():
        action = _locked_action(action)
        if not action.proposed_complete:
            raise InterventionError("Nobody has proposed this action as complete.")
        action.proposed_complete = False
        save_transition(
            action,
            user=user,
            reason=reason,
            update_fields=["proposed_complete"],
            status_change=False,
        )
    return action
