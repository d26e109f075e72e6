"""Finding and creating releases."""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, When

from metrics.models import Framework, Quarter
from releases.models import Release
from releases.services.computation import apply_framework_thresholds
from trusts.models import PeerGroup


class ReleaseError(Exception):
    """A request about a release that cannot be met as asked; the message says why."""


class UnknownQuarter(ReleaseError):
    pass


def parse_quarter(text: str) -> Quarter:
    """A stored quarter from "Q4 2025/26" or "2025-26-q4"."""
    try:
        year, number = Quarter.parse(text)
    except ValueError as error:
        raise UnknownQuarter(str(error)) from error
    try:
        return Quarter.objects.get(year_start=year, number=number)
    except ObjectDoesNotExist as error:
        raise UnknownQuarter(f"Quarter {text!r} has no data: import it first.") from error


def framework_for(quarter: Quarter, peer_group: PeerGroup) -> Framework:
    # Active before draft, newest first: a draft new version is not used until it is active.
    active_first = Case(When(status=Framework.Status.ACTIVE, then=0), default=1)
    framework = (
        Framework.objects.filter(peer_group=peer_group, quarters=quarter)
        .exclude(status=Framework.Status.RETIRED)
        .order_by(active_first, "-version")
        .first()
    )
    if framework is None:
        raise ReleaseError(f"No framework covers {peer_group.name} in {quarter}.")
    return framework


def draft_release(quarter: Quarter, peer_group_slug: str) -> Release:
    """The release of this quarter and peer group that can still change, created if needed."""
    release = planned_draft(quarter, peer_group_slug)
    if release.pk is None:
        release.save()
    return release


def planned_draft(quarter: Quarter, peer_group_slug: str) -> Release:
    """The draft release of this quarter and peer group; a new one is returned unsaved, so a
    caller can check what it will be given before anything is written."""
    try:
        peer_group = PeerGroup.objects.get(slug=peer_group_slug)
    except PeerGroup.DoesNotExist as error:
        known = ", ".join(PeerGroup.objects.values_list("slug", flat=True))
        raise ReleaseError(
            f"Peer group {peer_group_slug!r} is unknown (known: {known})."
        ) from error
    latest = (
        Release.objects.filter(quarter=quarter, peer_group=peer_group).order_by("-revision").first()
    )
    if latest is not None and latest.status == Release.Status.DRAFT:
        return latest
    if latest is not None:
        raise ReleaseError(
            f"{latest} is {latest.get_status_display().lower()}; it can no longer be "
            "recomputed. Start a correction (a new revision) instead."
        )
    framework = framework_for(quarter, peer_group)
    release = Release(
        quarter=quarter,
        peer_group=peer_group,
        framework=framework,
        replicates=framework.default_replicates,
        use_supplied_scores=framework.use_supplied_scores,
    )
    apply_framework_thresholds(release)
    return release
