"""Recording who changed what and why, the same way for every transition."""

from typing import Any

from django.db import models
from django.utils import timezone

from interventions.services import InterventionError


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InterventionError("Give a reason: it is kept in the history of the change.")
    return reason


def save_transition(
    obj: models.Model,
    *,
    user: Any,
    reason: str,
    update_fields: list[str],
    status_change: bool = True,
) -> None:
    """Save a locked row with its audit trail: simple-history stores the user and the reason.

    The latest status reason is also kept on the row itself, so a list page can show why a
    grant or plan is where it is without reading its history.
    """
    obj._history_user = user  # type: ignore[attr-defined]
    obj._change_reason = reason  # type: ignore[attr-defined]
    if status_change:
        obj.status_reason = reason
        obj.status_changed_at = timezone.now()
        obj.status_changed_by = user
        update_fields = [*update_fields, "status_reason", "status_changed_at", "status_changed_by"]
    obj.save(update_fields=update_fields)


def refuse_unless(current: str, allowed: tuple[str, ...], what: str, label: str) -> None:
    if current not in allowed:
        raise InterventionError(f"{what} is {label.lower()}; it cannot be changed that way now.")
