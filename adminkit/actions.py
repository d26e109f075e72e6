"""A list action that asks for confirmation and a reason before it changes anything.

One intermediate page (templates/admin/adminkit/confirm_with_reason.html) for every such action:
release transitions, decisions on freedoms and support plans. Each selected row goes through the
one service function behind the action, so the admin can never do what the service refuses;
each refusal is reported with its reason, and the others still go ahead.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

# Confirmation posts carry this, as Django's own delete confirmation does.
CONFIRMED = "post"


class ReasonForm(forms.Form):
    """The reason an admin action asks for before it changes anything; kept in the history."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3, "cols": 70}))


def confirm_with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    verb: str,
    apply: Callable[[Any, dict[str, Any]], Any],
    refusals: tuple[type[Exception], ...],
    form: forms.Form | None = None,
    intro: str = "",
) -> TemplateResponse | None:
    """Show the confirmation page; once confirmed with a valid form, `apply(obj, cleaned_data)`
    to each selected row. `apply` returns what to report for the row (or None to count it)."""
    confirmed = CONFIRMED in request.POST
    if form is None:
        form = ReasonForm(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        counted = 0
        for obj in queryset:
            try:
                outcome = apply(obj, form.cleaned_data)
            except refusals as refusal:
                message = getattr(refusal, "message", None) or str(refusal)
                modeladmin.message_user(request, f"{obj}: {message}", messages.ERROR)
                continue
            if outcome is None:
                counted += 1
            else:
                modeladmin.message_user(request, str(outcome), messages.SUCCESS)
        if counted:
            modeladmin.message_user(request, f"{verb}: {counted}.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": f"{verb}: confirm"
        + (
            " and give a reason"
            if "reason" in form.fields and form.fields["reason"].required
            else ""
        ),
        "verb": verb,
        "intro": intro,
        "objects": list(queryset),
        "form": form,
        "action_name": request.POST.get("action", ""),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "confirmed_field": CONFIRMED,
    }
    return TemplateResponse(request, "admin/adminkit/confirm_with_reason.html", context)
