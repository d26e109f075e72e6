"""Keeps draft releases in step with their data."""

from typing import Any

from django.dispatch import receiver

from metrics.signals import observations_changed
from releases.models import Release
from releases.tasks import enqueue_compute


@receiver(observations_changed, dispatch_uid="releases-recompute-drafts")
def recompute_drafts(sender: Any, quarter_ids: list[int], **kwargs: Any) -> None:
    """Queue every computed draft of the changed quarters; published releases never change."""
    for release in Release.objects.filter(
        quarter_id__in=quarter_ids, status=Release.Status.DRAFT
    ).exclude(computation=Release.Computation.NOT_COMPUTED):
        enqueue_compute(release)
