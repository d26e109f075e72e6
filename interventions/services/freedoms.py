"""Earned autonomy: proposing freedoms to eligible trusts and every change a regulator makes."""

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from interventions.models import FreedomGrant, FreedomType, SupportPlan
from interventions.services import InterventionError
from interventions.services._audit import refuse_unless, require_reason, save_transition
from interventions.services._releases import (
    is_latest_published,
    locked_if_published,
    supersede_proposals,
)
from metrics.models import Framework
from releases.models import Release, TrustResult

DEFAULT_REVIEW_AFTER = datetime.timedelta(days=365)
Status = FreedomGrant.Status


def is_eligible(result: TrustResult, framework: Framework) -> bool:
    """The framework's earned-autonomy rule: by default segment 1 and not in financial deficit."""
    if result.segment is None or result.segment > framework.freedom_max_segment:
        return False
    return not (framework.freedom_requires_no_deficit and result.in_financial_deficit)


def eligibility_rule(framework: Framework) -> str:
    rule = f"segment {framework.freedom_max_segment} or better"
    if framework.freedom_requires_no_deficit:
        rule += ", not in financial deficit"
    return rule


def _standing(result: TrustResult, release: Release) -> str:
    deficit = "in deficit" if result.in_financial_deficit else "not in deficit"
    return f"segment {result.segment}, {deficit} in {release}"


def propose_for_release(release: Release) -> list[FreedomGrant]:
    """Propose every active freedom to every trust the published release makes eligible.

    Idempotent: a trust that already holds the freedom (or has it proposed or under review), or
    whose proposal from this quarter's table (any revision) a regulator declined, is not
    proposed it again. A trust under an open support plan earns freedoms once the plan closes,
    and only the peer group's latest published table proposes anything.
    """
    with transaction.atomic():
        release = locked_if_published(release)
        if release is None or not is_latest_published(release):
            return []
        supported = set(
            SupportPlan.objects.open()
            .filter(trust__results__release=release)
            .values_list("trust_id", flat=True)
        )
        eligible = [
            result
            for result in TrustResult.objects.filter(release=release)
            if is_eligible(result, release.framework) and result.trust_id not in supported
        ]
        freedom_types = list(FreedomType.objects.filter(is_active=True))
        if not eligible or not freedom_types:
            return []
        considered = set(
            FreedomGrant.objects.filter(trust_id__in=[r.trust_id for r in eligible])
            .filter(
                Q(status__in=FreedomGrant.OPEN_STATUSES)
                | Q(
                    earned_by__quarter_id=release.quarter_id,
                    earned_by__peer_group_id=release.peer_group_id,
                    status_changed_by__isnull=False,
                )
            )
            .values_list("trust_id", "freedom_type_id")
        )
        now = timezone.now()
        proposals = []
        for result in eligible:
            for freedom_type in freedom_types:
                if (result.trust_id, freedom_type.pk) in considered:
                    continue
                reason = (
                    f"Proposed on publication: {_standing(result, release)} "
                    f"(rule: {eligibility_rule(release.framework)})."
                )
                grant = FreedomGrant(
                    trust_id=result.trust_id,
                    freedom_type=freedom_type,
                    earned_by=release,
                    status=Status.PROPOSED,
                    status_reason=reason,
                    status_changed_at=now,
                )
                grant._change_reason = reason  # type: ignore[attr-defined]
                proposals.append(grant)
        return bulk_create_with_history(proposals, FreedomGrant)


def flag_reviews_for_release(release: Release) -> list[FreedomGrant]:
    """Put under review the granted freedoms of trusts this release shows no longer eligible.

    Never revokes: a regulator decides, with the figures in the reason to decide on. Only
    releases of the quarter that earned the grant or later count, so publishing a correction to
    an older quarter does not call a newer grant into question.
    """
    with transaction.atomic():
        release = locked_if_published(release)
        if release is None:
            return []
        results = {
            result.trust_id: result for result in TrustResult.objects.filter(release=release)
        }
        grants = FreedomGrant.objects.filter(
            trust_id__in=results, status=Status.GRANTED
        ).select_related("earned_by__quarter", "freedom_type")
        flagged = []
        for grant in grants:
            result = results[grant.trust_id]
            if release.quarter.key < grant.earned_by.quarter.key:
                continue
            if is_eligible(result, release.framework):
                continue
            reason = (
                f"No longer eligible: {_standing(result, release)} "
                f"(rule: {eligibility_rule(release.framework)})."
            )
            flagged.append(flag_for_review(grant, None, reason))
        return flagged


def _locked(grant: FreedomGrant) -> FreedomGrant:
    return FreedomGrant.objects.select_for_update().get(pk=grant.pk)


def _refuse_bad_dates(grant: FreedomGrant) -> None:
    errors = grant.date_errors()
    if errors:
        raise InterventionError(" ".join(errors.values()))


def confirm_grant(
    grant: FreedomGrant,
    user: Any,
    reason: str,
    *,
    start: datetime.date | None = None,
    review_date: datetime.date | None = None,
    conditions: str | None = None,
) -> FreedomGrant:
    """A regulator grants a proposed freedom, from `start` (today) until review."""
    reason = require_reason(reason)
    with transaction.atomic():
        grant = _locked(grant)
        refuse_unless(grant.status, (Status.PROPOSED,), "This freedom", grant.get_status_display())
        grant.status = Status.GRANTED
        grant.start = start or timezone.localdate()
        grant.review_date = review_date or grant.review_date or grant.start + DEFAULT_REVIEW_AFTER
        fields = ["status", "start", "review_date"]
        if conditions is not None:
            grant.conditions = conditions
            fields.append("conditions")
        _refuse_bad_dates(grant)
        save_transition(grant, user=user, reason=reason, update_fields=fields)
    return grant


def decline_grant(grant: FreedomGrant, user: Any, reason: str) -> FreedomGrant:
    reason = require_reason(reason)
    with transaction.atomic():
        grant = _locked(grant)
        refuse_unless(grant.status, (Status.PROPOSED,), "This freedom", grant.get_status_display())
        grant.status = Status.DECLINED
        save_transition(grant, user=user, reason=reason, update_fields=["status"])
    return grant


def flag_for_review(grant: FreedomGrant, user: Any, reason: str) -> FreedomGrant:
    """Question a granted freedom (user None when a published release triggered it)."""
    reason = require_reason(reason)
    with transaction.atomic():
        grant = _locked(grant)
        refuse_unless(grant.status, (Status.GRANTED,), "This freedom", grant.get_status_display())
        grant.status = Status.UNDER_REVIEW
        save_transition(grant, user=user, reason=reason, update_fields=["status"])
    return grant


def keep_grant(
    grant: FreedomGrant, user: Any, reason: str, *, review_date: datetime.date | None = None
) -> FreedomGrant:
    """A regulator ends a review by keeping the freedom, optionally until a new review date."""
    reason = require_reason(reason)
    with transaction.atomic():
        grant = _locked(grant)
        refuse_unless(
            grant.status, (Status.UNDER_REVIEW,), "This freedom", grant.get_status_display()
        )
        grant.status = Status.GRANTED
        fields = ["status"]
        if review_date is not None:
            grant.review_date = review_date
            fields.append("review_date")
        _refuse_bad_dates(grant)
        save_transition(grant, user=user, reason=reason, update_fields=fields)
    return grant


def revoke_grant(grant: FreedomGrant, user: Any, reason: str) -> FreedomGrant:
    return _end_grant(grant, user, reason, Status.REVOKED)


def expire_grant(grant: FreedomGrant, user: Any, reason: str) -> FreedomGrant:
    return _end_grant(grant, user, reason, Status.EXPIRED)


def _end_grant(grant: FreedomGrant, user: Any, reason: str, end: str) -> FreedomGrant:
    """Granted or under review → revoked or expired: the freedom ends, with the reason."""
    reason = require_reason(reason)
    with transaction.atomic():
        grant = _locked(grant)
        refuse_unless(
            grant.status,
            (Status.GRANTED, Status.UNDER_REVIEW),
            "This freedom",
            grant.get_status_display(),
        )
        grant.status = end
        save_transition(grant, user=user, reason=reason, update_fields=["status"])
    return grant


def set_grant_public(grant: FreedomGrant, user: Any, is_public: bool, reason: str) -> FreedomGrant:
    """Show or hide the freedom on the public pages (shown only while it is granted)."""
    reason = require_reason(reason)
    with transaction.atomic():
        grant = _locked(grant)
        grant.is_public = is_public
        save_transition(
            grant, user=user, reason=reason, update_fields=["is_public"], status_change=False
        )
    return grant


def decline_proposals_of_withdrawn(release: Release) -> list[FreedomGrant]:
    """Proposals earned by a withdrawn table have lost their basis; granted freedoms are kept."""
    declined = []
    for grant in FreedomGrant.objects.filter(earned_by=release, status=Status.PROPOSED):
        try:
            declined.append(
                decline_grant(grant, None, f"{release} was withdrawn before a decision was made.")
            )
        except InterventionError:
            continue  # a regulator decided it meanwhile; their decision stands
    return declined


def supersede_earlier_proposals(release: Release) -> list[FreedomGrant]:
    """Decline the peer group's proposals from earlier tables once a later one is published.

    Kept in the history with the reason, decided by nobody (the table did it); the new table
    then proposes afresh to whoever it makes eligible.
    """
    return supersede_proposals(
        release, FreedomGrant.objects.filter(status=Status.PROPOSED), "earned_by", decline_grant
    )
