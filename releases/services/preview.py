"""Embargoed previews for trust boards.

While a release is submitted, approved or scheduled, a board member may see their own trust's
results and metric scores, marked as embargoed, and nothing of any other trust: the querysets
here are filtered to the user's trusts before anything else can be asked of them. The trust
area's pages build on `preview_results_for`; they must not query results of an unpublished
release any other way.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from releases.models import MetricResult, Release, TrustResult
from trusts.models import Trust

PREVIEW_STATUSES = (
    Release.Status.SUBMITTED,
    Release.Status.APPROVED,
    Release.Status.SCHEDULED,
)
PREVIEW_PERMISSION = "releases.preview_release"


@dataclass(frozen=True)
class Preview:
    release: Release
    trusts: QuerySet[Trust]
    trust_results: QuerySet[TrustResult]
    metric_results: QuerySet[MetricResult]
    # When the embargo lifts, if a publication time has been set.
    embargoed_until: datetime | None
    embargoed: bool = True


def previewable_releases_for(user: Any) -> QuerySet[Release]:
    """Releases under embargo that contain at least one of the user's trusts."""
    if not user.is_authenticated or not user.is_active or not user.has_perm(PREVIEW_PERMISSION):
        return Release.objects.none()
    return (
        Release.objects.filter(
            status__in=PREVIEW_STATUSES,
            trust_results__trust__board_memberships__user=user,
        )
        .select_related("quarter", "peer_group")
        .distinct()
    )


def preview_results_for(user: Any, release: Release) -> Preview:
    """The user's own trusts' rows of an embargoed release; PermissionDenied otherwise.

    Refused for a release that is a draft (not yet checked) or already public (then the public
    pages show it), for a user without the preview permission, and for one who sits on the
    board of no trust in the release.
    """
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in to see an embargoed preview.")
    if not user.has_perm(PREVIEW_PERMISSION):
        raise PermissionDenied("You do not have the right to preview embargoed releases.")
    # Read from the database, not the instance: a stale instance must not reopen a preview.
    status, embargoed_until = Release.objects.filter(pk=release.pk).values_list(
        "status", "scheduled_for"
    ).first() or (None, None)
    if status not in PREVIEW_STATUSES:
        raise PermissionDenied(f"{release} is not under embargo, so there is no preview of it.")
    trusts = Trust.objects.for_board_member(user).filter(results__release=release)
    trust_ids = list(trusts.values_list("pk", flat=True))
    if not trust_ids:
        raise PermissionDenied(f"You are not on the board of any trust in {release}.")
    return Preview(
        release=release,
        trusts=Trust.objects.filter(pk__in=trust_ids),
        trust_results=TrustResult.objects.filter(release=release, trust_id__in=trust_ids)
        .select_related("trust")
        .order_by("trust__name"),
        metric_results=MetricResult.objects.filter(release=release, trust_id__in=trust_ids)
        .select_related("trust", "metric")
        .order_by("trust__name", "metric__code"),
        embargoed_until=embargoed_until,
    )
