"""The regulator's to-do list on the admin's front page."""

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from metrics.models import ImportRun
from releases.models import Release, ReleaseTransition

register = template.Library()

RECENT_UPLOADS = timedelta(days=30)


@register.simple_tag(takes_context=True)
def regulator_todo(context: dict[str, Any]) -> dict[str, Any]:
    """What needs this user's attention, each list only for those whose role acts on it."""
    user = context["request"].user
    releases = Release.objects.select_related("quarter", "peer_group", "submitted_by")
    todo: dict[str, Any] = {}
    if user.has_perm("releases.approve_release"):
        todo["awaiting_approval"] = list(
            releases.filter(status=Release.Status.SUBMITTED)
            .exclude(submitted_by=user)
            .order_by("submitted_at")
        )
    if user.has_perm("releases.publish_release"):
        todo["ready_to_schedule"] = list(
            releases.filter(status=Release.Status.APPROVED).order_by("approved_at")
        )
    if user.has_perm("releases.submit_release"):
        # A draft that has a submitter was submitted once and returned.
        returned = list(releases.filter(status=Release.Status.DRAFT, submitted_by=user))
        reasons = {}
        for release_id, reason in (
            ReleaseTransition.objects.filter(
                release__in=returned, action=ReleaseTransition.Action.RETURN
            )
            .order_by("at", "pk")
            .values_list("release_id", "reason")
        ):
            reasons[release_id] = reason  # the latest return wins
        todo["returned"] = [(release, reasons.get(release.pk, "")) for release in returned]
    if user.has_perm("releases.compute_release"):
        todo["failed_computations"] = list(
            releases.filter(status=Release.Status.DRAFT, computation=Release.Computation.FAILED)
        )
    if user.has_perm("metrics.add_importrun"):
        uploads = ImportRun.objects.exclude(uploaded_file="").filter(
            started_at__gte=timezone.now() - RECENT_UPLOADS
        )
        if not user.is_superuser:
            uploads = uploads.filter(imported_by=user)
        todo["rejected_uploads"] = list(
            uploads.filter(status=ImportRun.Status.REJECTED).order_by("-started_at")[:20]
        )
        todo["awaiting_uploads"] = list(
            uploads.filter(status=ImportRun.Status.AWAITING).order_by("-started_at")[:20]
        )
    if user.has_perm("releases.view_release"):
        todo["scheduled"] = list(
            releases.filter(status=Release.Status.SCHEDULED).order_by("scheduled_for")
        )
    # Shown to anyone with a role in the workflow, even when every list is empty.
    todo["shown"] = bool(todo)
    todo["anything"] = any(value for key, value in todo.items() if key != "shown")
    return todo
