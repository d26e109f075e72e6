"""Admins for rows that only the system writes: computed results, audit rows, provenance."""

from typing import Any

from django.http import HttpRequest

from adminkit.refusals import ExplainedRefusals


class ReadOnlyAdminMixin(ExplainedRefusals):
    """Viewable by whoever holds the view permission; never added, changed or deleted here.

    `read_only_reason` says why, on the page that answers an attempt to change one.
    """

    read_only_reason = (
        "These rows are written only by the portal itself: no one adds, changes or deletes "
        "them here."
    )

    def refusal_reason(self, request: HttpRequest, action: str, obj: Any = None) -> str:
        if action in ("add", "change", "delete"):
            return self.read_only_reason
        return super().refusal_reason(request, action, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
