"""Admins for rows that only the system writes: computed results, audit rows, provenance."""

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Viewable by whoever holds the view permission; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
