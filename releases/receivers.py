"""Keeps draft releases in step with their data."""

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from metrics.signals import observations_changed
from releases.models import Release
from releases.tasks import enqueue_compute
from trusts.models import Trust

# What a draft takes from a trust: whether it is among the peers, and the name, subtype and
# region its league table row keeps.
TRUST_INPUTS = ("peer_group_id", "name", "subtype", "region_id", "is_open")


@receiver(observations_changed, dispatch_uid="releases-recompute-drafts")
def recompute_drafts(sender: Any, quarter_ids: list[int], **kwargs: Any) -> None:
    """Queue the drafts of the changed quarters; published releases never change.

    A fresh draft waits for an analyst to compute it, but a correction exists to take in
    corrected data: the import that brings the data computes it, so it reaches the to-do list
    ready to submit (or with the reason it failed).
    """
    _recompute(Release.objects.filter(quarter_id__in=quarter_ids))


def _recompute(releases: Any) -> None:
    for release in releases.filter(status=Release.Status.DRAFT).filter(
        Q(supersedes__isnull=False) | ~Q(computation=Release.Computation.NOT_COMPUTED)
    ):
        enqueue_compute(release)


@receiver(pre_save, sender=Trust, dispatch_uid="releases-trust-before-change")
def remember_trust_inputs(sender: Any, instance: Trust, raw: bool = False, **kwargs: Any) -> None:
    """What the trust was, so the change can be told apart from a save that changed nothing."""
    if raw or instance.pk is None:
        return
    instance._inputs_before = (
        Trust.objects.filter(pk=instance.pk).values_list(*TRUST_INPUTS).first()
    )


@receiver(post_save, sender=Trust, dispatch_uid="releases-recompute-drafts-of-trust")
def recompute_drafts_of_trust(
    sender: Any, instance: Trust, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """A trust moved to another peer group, renamed or reorganised by hand (the admin, the
    shell): the computed drafts of its old and new peer groups are recomputed, as after an
    observation's edit, rather than wait, stale, for the beat's quarter-hourly check."""
    if raw:
        return
    before = getattr(instance, "_inputs_before", None)
    now = tuple(getattr(instance, name) for name in TRUST_INPUTS)
    if not created and before == now:
        return
    groups = {instance.peer_group_id, before[0] if before else None} - {None}
    transaction.on_commit(
        lambda: _recompute(Release.objects.filter(peer_group_id__in=groups)), robust=True
    )
