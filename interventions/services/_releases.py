"""Reading releases the way interventions need them."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from releases.models import Release


def locked_if_published(release: Release) -> Release | None:
    """The release, locked, if it is still the published table; None otherwise.

    Locking the release row serialises two runs for the same release (a signal delivered twice,
    a task retried while the first run is still going), so the second sees what the first wrote.
    """
    locked = (
        Release.objects.select_for_update()
        .filter(pk=release.pk, status=Release.Status.PUBLISHED)
        .first()
    )
    if locked is None:
        return None
    # Loaded separately: FOR UPDATE cannot follow the joins select_related would add.
    return Release.objects.select_related("quarter", "peer_group", "framework").get(pk=locked.pk)


def is_latest_published(release: Release) -> bool:
    """True unless the peer group has a published table of a later quarter.

    Proposals follow the latest table: a correction to an older quarter, or a table whose
    publication task runs late, must neither propose from stale figures nor undo the newer
    table's proposals.
    """
    year, number = release.quarter.key
    return (
        not Release.objects.published()
        .filter(peer_group_id=release.peer_group_id)
        .filter(
            Q(quarter__year_start__gt=year)
            | Q(quarter__year_start=year, quarter__number__gt=number)
        )
        .exists()
    )


def earlier_releases(release: Release) -> QuerySet[Release]:
    """The peer group's other releases of this quarter (older revisions) or earlier ones."""
    year, number = release.quarter.key
    return (
        Release.objects.filter(peer_group_id=release.peer_group_id)
        .exclude(pk=release.pk)
        .filter(
            Q(quarter__year_start__lt=year)
            | Q(quarter__year_start=year, quarter__number__lte=number)
        )
    )


def supersede_proposals(
    release: Release,
    proposals: QuerySet,
    source: str,
    decline: Callable[[Any, Any, str], Any],
) -> list[Any]:
    """Decline, as superseded, `proposals` made from the peer group's earlier tables.

    `source` names the proposal's release field; `decline(row, None, reason)` is the model's
    own decline transition, so each keeps its history. Nothing happens unless `release` is the
    peer group's latest published table.
    """
    with transaction.atomic():
        release = locked_if_published(release)
        if release is None or not is_latest_published(release):
            return []
        reason = superseded_reason(release)
        stale = proposals.filter(**{f"{source}__in": earlier_releases(release)})
        return [decline(row, None, reason) for row in stale]


def superseded_reason(release: Release) -> str:
    revision = f" (revision {release.revision})" if release.revision > 1 else ""
    return (
        f"Superseded by {release.quarter.label}{revision}: proposals follow the latest "
        f"published {release.peer_group.name} table."
    )
