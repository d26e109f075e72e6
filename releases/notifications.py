"""Emails about releases.

Called by the lifecycle service through `transaction.on_commit`, so nobody hears of a change
that was rolled back, and each function reloads the release to describe what was committed.
One message per recipient, so board members of different trusts never see each other's
addresses. Each function returns how many messages it sent.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone

from releases.models import Release
from trusts.models import BoardMembership

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def release_submitted(release_id: int) -> int:
    """Every approver but the submitter: a release awaits their check."""
    release = _load(release_id)
    if release is None:
        return 0
    approvers = (
        get_user_model()
        .objects.with_perm(
            "releases.approve_release", include_superusers=False, backend=MODEL_BACKEND
        )
        .filter(is_active=True)
        .exclude(email="")
        .exclude(pk=release.submitted_by_id)
    )
    return _send(
        [user.email for user in approvers],
        f"For approval: {release}",
        f"{_name(release.submitted_by)} submitted {release} for approval.\n\n"
        f"Review it: {_admin_url('admin:releases_release_review', release.pk)}\n",
    )


def release_returned(release_id: int, reason: str) -> int:
    """The submitter: what must change before it can be approved."""
    release = _load(release_id)
    if release is None or release.submitted_by is None or not release.submitted_by.email:
        return 0
    return _send(
        [release.submitted_by.email],
        f"Returned for changes: {release}",
        f"{release} was returned to draft for changes.\n\nReason:\n{reason}\n\n"
        f"{_admin_url('admin:releases_release_change', release.pk)}\n",
    )


def release_published(release_id: int) -> int:
    """The submitter: their release is public."""
    release = _load(release_id)
    if release is None or release.submitted_by is None or not release.submitted_by.email:
        return 0
    when = timezone.localtime(release.published_at) if release.published_at else timezone.now()
    correction = (
        f"\nIt corrects revision {release.supersedes.revision}.\n" if release.supersedes else ""
    )
    return _send(
        [release.submitted_by.email],
        f"Published: {release}",
        f"{release} was published at {when:%d %b %Y %H:%M}.\n{correction}",
    )


def release_scheduled(release_id: int) -> int:
    """Board members of every trust in the release: their embargoed preview is ready."""
    release = _load(release_id)
    if release is None or release.scheduled_for is None:
        return 0
    emails = (
        BoardMembership.objects.filter(trust__results__release=release, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
        .distinct()
    )
    when = timezone.localtime(release.scheduled_for)
    return _send(
        sorted(set(emails)),
        f"Embargoed preview ready: {release}",
        f"The {release} league table will be published at {when:%d %b %Y %H:%M}.\n\n"
        "Until then your trust's own results are available to you as an embargoed preview. "
        "They must not be shared before publication.\n\n"
        f"{settings.SITE_URL.rstrip('/')}/trust-area/\n",
    )


def _load(release_id: int) -> Release | None:
    return (
        Release.objects.select_related("quarter", "peer_group", "submitted_by", "supersedes")
        .filter(pk=release_id)
        .first()
    )


def _send(recipients: list[str], subject: str, body: str) -> int:
    if not recipients:
        return 0
    messages = [EmailMessage(subject=subject, body=body, to=[address]) for address in recipients]
    return get_connection().send_messages(messages) or 0


def _admin_url(name: str, release_id: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[release_id])


def _name(user: object) -> str:
    if user is None:
        return "Someone"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or str(user)
