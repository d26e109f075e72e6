"""Keeps draft releases in step with their data."""

from typing import Any

from django.db.models import Q
from django.dispatch import receiver

from metrics.signals import observations_changed
from releases.models import Release
from releases.tasks import enqueue_compute


@receiver(observations_changed, dispatch_uid="releases-recompute-drafts")
def recompute_drafts(sender: Any, quarter_ids: list[int], **kwargs: Any) -> None:
    """Queue the drafts of the changed quarters; published releases never change.

    A fresh draft waits for an analyst to compute it, but a correction exists to take in
    corrected data: the import that brings the data computes it, so it reaches the to-do list
    ready to submit (or with the reason it failed).
    """
    for release in Release.objects.filter(
        quarter_id__in=quarter_ids, status=Release.Status.DRAFT
    ).filter(Q(supersedes__isnull=False) | ~Q(computation=Release.Computation.NOT_COMPUTED)):
        enqueue_compute(release)
