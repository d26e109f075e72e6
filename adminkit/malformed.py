"""Ids in an admin request that no row could have are answered 404 or 400, never 500.

Django's own change, delete and history pages read a bad id as "no such row", but two paths
hand the raw text straight to the database: simple-history's history pages (a row's list of
versions, ``/admin/<app>/<model>/abc/history/``, and one earlier version,
``/admin/<app>/<model>/<id>/history/abc/``, asked the database for id or history_id "abc", a
ValueError) and the rows ticked on a list for an action (``_selected_action=abc`` the same, and
``99999999999999999999999`` an OverflowError on SQLite). Every ModelAdmin of every app is
reached through the admin site, so the ids are checked here, once, against the very field
they will be compared with: whatever the admin or the app, the answer is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from adminkit.refusals import refusal_page

HISTORY_VERSION_SUFFIX = "_simple_history"
HISTORY_SUFFIX = "_history"
CHANGELIST_SUFFIX = "_changelist"
# Past this many characters no id of any kind is plausible; also bounds what is echoed back.
MAX_SHOWN = 40


def is_readable_key(field: models.Field, raw: str) -> bool:
    """Whether `raw` (as quoted in an admin URL or form) can be the value of `field`.

    `to_python` refuses text that is not a number (or not a UUID...); the field's validators
    refuse a number the database column cannot hold (Django sets them from the connection's
    integer ranges), which SQLite would otherwise meet with an OverflowError.
    """
    try:
        value = field.to_python(unquote(raw))
        if value is None:
            return False
        field.run_validators(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    return True


def model_admin_of(view_func: Callable[..., Any]) -> admin.ModelAdmin | None:
    """The ModelAdmin behind an admin view: named by Django's own URLs (`model_admin`), or
    the bound method that the admin site wrapped (simple-history's and the apps' own URLs)."""
    found = getattr(view_func, "model_admin", None)
    current: Any = view_func
    while found is None and current is not None:
        owner = getattr(current, "__self__", None)
        if isinstance(owner, admin.ModelAdmin):
            found = owner
        current = getattr(current, "__wrapped__", None)
    return found


def _shown(raw: str) -> str:
    return raw if len(raw) <= MAX_SHOWN else raw[:MAX_SHOWN] + "…"


class RefuseMalformedAdminIds:
    """Middleware: checks the ids of a history version and of a list action's selection."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = getattr(request, "resolver_match", None)
        url_name = getattr(match, "url_name", None) or ""
        if not url_name.endswith((HISTORY_VERSION_SUFFIX, HISTORY_SUFFIX, CHANGELIST_SUFFIX)):
            return None
        model_admin = model_admin_of(view_func)
        if model_admin is None:
            return None
        if url_name.endswith(HISTORY_VERSION_SUFFIX):
            self._check_history_version(model_admin, view_args, view_kwargs)
            return None
        if url_name.endswith(HISTORY_SUFFIX):
            self._check_object_id(model_admin, view_kwargs.get("object_id", view_args[:1]))
            return None
        if request.method == "POST" and "action" in request.POST:
            return self._check_selection(request, model_admin)
        return None

    def _check_history_version(
        self, model_admin: admin.ModelAdmin, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """An earlier version's page names the row and the version: both must be ids."""
        object_id = kwargs.get("object_id", args[0] if args else "")
        version_id = kwargs.get("version_id", args[1] if len(args) > 1 else "")
        self._check_object_id(model_admin, object_id)
        opts = model_admin.model._meta
        manager = getattr(opts, "simple_history_manager_attribute", None)
        if manager is None:
            return
        history_pk = getattr(model_admin.model, manager).model._meta.pk
        if not is_readable_key(history_pk, str(version_id)):
            raise Http404(
                f"There is no version “{_shown(version_id)}” of this {opts.verbose_name}: "
                "versions are numbered; pick one from its history page."
            )

    @staticmethod
    def _check_object_id(model_admin: admin.ModelAdmin, object_id: Any) -> None:
        if isinstance(object_id, tuple):  # from positional arguments: the first, if any
            object_id = object_id[0] if object_id else ""
        opts = model_admin.model._meta
        if not is_readable_key(opts.pk, str(object_id)):
            raise Http404(f"There is no {opts.verbose_name} with the id “{_shown(object_id)}”.")

    def _check_selection(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> HttpResponse | None:
        """Every row ticked for an action must be an id of this model, or nothing is done."""
        opts = model_admin.model._meta
        bad = [
            raw
            for raw in request.POST.getlist(ACTION_CHECKBOX_NAME)
            if not is_readable_key(opts.pk, raw)
        ]
        if not bad:
            return None
        listed = ", ".join(f"“{_shown(raw)}”" for raw in bad[:5])
        response = refusal_page(
            request,
            title=f"The selected {opts.verbose_name_plural} cannot be read",
            refusals=[
                (
                    None,
                    f"{listed} {'is not the id' if len(bad) == 1 else 'are not ids'} of any "
                    f"{opts.verbose_name}: reload the list and select the rows again.",
                )
            ],
            opts=opts,
            site=model_admin.admin_site,
        )
        response.status_code = 400
        return response
