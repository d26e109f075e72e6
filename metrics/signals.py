"""Data events, for the concerns that follow them (recomputing the affected draft releases).

Sent after the change has committed, with `quarter_ids` (the quarters whose observations or
flags changed).
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

observations_changed = Signal()


def announce_changed_quarters(sender: Any, quarter_ids: Iterable[int | None], **extra: Any) -> None:
    """Send `observations_changed` for these quarters once the current transaction commits.

    On commit, not now: a receiver queuing a recompute must not run before the rows exist, nor
    for a change that was rolled back.
    """
    ids = sorted({pk for pk in quarter_ids if pk is not None})
    if not ids:
        return
    transaction.on_commit(
        lambda: observations_changed.send(sender=sender, quarter_ids=ids, **extra), robust=True
    )
