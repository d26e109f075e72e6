"""The error a model's own guard raises when it refuses a write; free of the admin, so models
can import it while the apps load."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied


class Refused(PermissionDenied):
    """A write the portal refuses for a reason the user can act on.

    The message says what was refused, why and what to do instead; `because_of` names the rows
    that cause it (e.g. the releases that used the data), which the admin's page links to. A
    PermissionDenied, so a write that slips past every form's check still answers 403 with it.
    """

    def __init__(self, message: str, *, because_of: Iterable[Any] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.because_of = list(because_of)
