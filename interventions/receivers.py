"""Receivers for the release lifecycle's signals, connected in InterventionsConfig.ready().

They only queue a task: the work runs on a worker in its own transactions, not in the publishing
request, and `on_commit` keeps a receiver called inside a transaction from queueing work the
worker could not yet see. Both are safe to call twice for the same release.
"""

from typing import Any

from django.db import transaction

from interventions.tasks import process_published_release, process_withdrawn_release
from releases.models import Release


def on_release_published(sender: Any, release: Release, **kwargs: Any) -> None:
    release_id = release.pk
    transaction.on_commit(lambda: process_published_release.delay(release_id))


def on_release_withdrawn(sender: Any, release: Release, **kwargs: Any) -> None:
    release_id = release.pk
    transaction.on_commit(lambda: process_withdrawn_release.delay(release_id))
