"""Every refusal in the admin says why, and what to do instead.

A regulator who tries to change or delete something the portal will not let change (an
observation a published release used, a framework version a signed-off release was scored
with, a result only the computation writes) gets a page or a form error naming the reason, the
rows that cause it (the releases that use it, linked), and what to do instead: never a bare
"403 Forbidden" or a server error.

- `Refused`: the error a model's own guard raises (a PermissionDenied, so a write that slips
  past every check still answers 403, with its reason);
- `ExplainedRefusals`: a ModelAdmin mixin that asks the model before it offers a deletion (the
  delete page and the list's "delete selected" action) and answers with the reason;
- `RefusingInlineFormSet`: deleting a fixed row from an inline is a form error on that inline;
- `permission_denied`: the admin's 403 page (the project's handler403 sends admin requests
  here), which says why whatever raised the PermissionDenied.

Models opt in by defining `assert_deletable()`, which raises `Refused` (or any
PermissionDenied with a message) when the row may not be deleted, and which their `delete()`
calls too, so the admin and the model can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from adminkit.errors import Refused

__all__ = ["ExplainedRefusals", "Refused", "RefusingInlineFormSet", "permission_denied"]

TEMPLATE = "admin/adminkit/refused.html"
# The list of refused rows on a bulk deletion's page stops here ("and 412 more").
MAX_LISTED = 50

VERBS = {
    "add": "add",
    "change": "change",
    "delete": "delete",
    "changelist": "list",
    "history": "see the history of",
    "simple_history": "restore an earlier version of",
}


def reason_of(error: BaseException) -> str:
    """The reason a PermissionDenied carries, or "" for a bare one."""
    return str(getattr(error, "message", "") or (error.args[0] if error.args else "") or "")


def deletion_refusal(obj: models.Model) -> PermissionDenied | None:
    """The refusal `obj.delete()` would raise, without deleting anything."""
    check = getattr(obj, "assert_deletable", None)
    if check is None:
        return None
    try:
        check()
    except PermissionDenied as refusal:
        return refusal
    return None


def _admin_link(obj: models.Model) -> tuple[str, str]:
    """(label, admin URL or "") for a row named by a refusal."""
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        url = ""
    status = getattr(obj, "get_status_display", None)
    label = f"{obj} ({status().lower()})" if callable(status) else str(obj)
    return label, url


def refusal_page(
    request: HttpRequest,
    *,
    title: str,
    refusals: Sequence[tuple[Any, str]],
    because_of: Iterable[models.Model] = (),
    opts: Any = None,
    obj: models.Model | None = None,
    back_url: str = "",
    more: int = 0,
    site: admin.AdminSite | None = None,
) -> TemplateResponse:
    """The admin's page for a refused request: 403, with each reason and the rows behind it.

    `refusals` pairs each refused row (or None) with its reason; rows refused for the same
    reason are listed together, the reason once.
    """
    site = site or admin.site
    grouped: dict[str, list[Any]] = {}
    for row, reason in refusals:
        grouped.setdefault(reason, [])
        if row is not None:
            grouped[reason].append(row)
    seen: set[tuple[str, Any]] = set()
    linked = []
    for row in because_of:
        key = (row._meta.label, row.pk)
        if key not in seen:
            seen.add(key)
            linked.append(_admin_link(row))
    if not back_url and opts is not None:
        try:
            back_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            back_url = ""
    context = {
        **site.each_context(request),
        "title": title,
        "refusals": list(grouped.items()),
        "because_of": linked,
        "opts": opts,
        "object": obj,
        "back_url": back_url or reverse("admin:index"),
        "more": more,
    }
    return TemplateResponse(request, TEMPLATE, context, status=403)


class ExplainedRefusals:
    """A ModelAdmin mixin: deletions the model refuses are refused up front, with the reason;
    whatever this admin never does (`never`) says why when it is tried.

    `never` maps an action ("add", "change", "delete") to why this admin never offers it, for
    admins that refuse it to everyone (read-only results, rows that end by status).
    """

    never: dict[str, str] = {}

    def refusal_reason(self, request: HttpRequest, action: str, obj: Any = None) -> str:
        """Why `action` on `obj` is refused, for a PermissionDenied that gave no reason."""
        if action in self.never:
            return self.never[action]
        opts = self.model._meta  # type: ignore[attr-defined]
        verb = VERBS.get(action, action)
        return (
            f"Your account may not {verb} {opts.verbose_name_plural}. If your work needs it, "
            "ask whoever manages the regulators' accounts for the role that may."
        )

    def deletion_refusals(self, objs: Iterable[models.Model]) -> list[tuple[Any, PermissionDenied]]:
        return [(obj, refusal) for obj in objs if (refusal := deletion_refusal(obj)) is not None]

    def _refused_deletion(
        self, request: HttpRequest, refused: list[tuple[Any, PermissionDenied]], total: int
    ) -> TemplateResponse:
        opts = self.model._meta  # type: ignore[attr-defined]
        shown = refused[:MAX_LISTED]
        if total == 1:
            obj = refused[0][0]
            title = f"{obj} cannot be deleted"
            back_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        else:
            title = (
                f"{len(refused)} of the {total} selected {opts.verbose_name_plural} cannot be "
                "deleted; nothing was deleted"
            )
            back_url = ""
        return refusal_page(
            request,
            title=title,
            refusals=[(obj, reason_of(refusal)) for obj, refusal in shown],
            because_of=[row for _, refusal in shown for row in getattr(refusal, "because_of", ())],
            opts=opts,
            obj=refused[0][0] if total == 1 else None,
            back_url=back_url,
            more=len(refused) - len(shown),
            site=self.admin_site,  # type: ignore[attr-defined]
        )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is not None and self.has_delete_permission(request, obj):  # type: ignore[attr-defined]
            refused = self.deletion_refusals([obj])
            if refused:
                return self._refused_deletion(request, refused, 1)
        return super().delete_view(request, object_id, extra_context)  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)  # type: ignore[misc]
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (type(self)._delete_selected, name, description)
        return actions

    def _delete_selected(self, request: HttpRequest, queryset: Any) -> Any:
        # Nothing is deleted if any selected row may not be: a half-done bulk deletion would
        # leave the regulator to work out which rows went.
        rows = list(queryset)
        refused = self.deletion_refusals(rows)
        if refused:
            return self._refused_deletion(request, refused, len(rows))
        return delete_selected(self, request, queryset)


class RefusingInlineFormSet(BaseInlineFormSet):
    """An inline whose rows may refuse deletion: ticking "Delete" on a row the model refuses
    to delete is an error on the inline, with the reason, and nothing is saved."""

    def clean(self) -> None:
        super().clean()
        errors = []
        for form in self.deleted_forms:
            if form.instance.pk is None:
                continue
            refusal = deletion_refusal(form.instance)
            if refusal is not None:
                errors.append(f"{form.instance}: {reason_of(refusal)}")
        if errors:
            raise forms.ValidationError(errors)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The admin's 403: the reason the refusal gave, or the one its admin gives for the action
    (Django's own checks raise a bare PermissionDenied), on the admin's own page."""
    match = getattr(request, "resolver_match", None)
    model_admin = getattr(getattr(match, "func", None), "model_admin", None)
    opts = model_admin.model._meta if model_admin is not None else None
    action = ""
    if match is not None and opts is not None and match.url_name:
        action = match.url_name.removeprefix(f"{opts.app_label}_{opts.model_name}_")
    obj = None
    object_id = match.kwargs.get("object_id") if match is not None else None
    if model_admin is not None and object_id:
        try:
            obj = model_admin.get_object(request, unquote(object_id))
        except Exception:  # the page must render whatever the id was
            obj = None
    reason = reason_of(exception)
    if not reason:
        if isinstance(model_admin, ExplainedRefusals):
            reason = model_admin.refusal_reason(request, action, obj)
        else:
            reason = (
                "Your account may not do this. If your work needs it, ask whoever manages "
                "the regulators' accounts for the role that may."
            )
    verb = VERBS.get(action, "")
    if obj is not None and verb:
        title = f"You cannot {verb} {obj}"
    elif opts is not None and verb:
        title = f"You cannot {verb} {opts.verbose_name_plural}"
    else:
        title = "You cannot do this"
    back_url = ""
    if obj is not None and opts is not None and action != "change":
        try:
            back_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        except NoReverseMatch:
            back_url = ""
    return refusal_page(
        request,
        title=title,
        refusals=[(None, reason)],
        because_of=getattr(exception, "because_of", ()),
        opts=opts,
        obj=obj,
        back_url=back_url,
        site=model_admin.admin_site if model_admin is not None else None,
    )
