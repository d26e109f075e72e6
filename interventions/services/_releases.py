"""Reading releases the way interventions need them."""

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
