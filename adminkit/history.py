"""Edits in the admin say why: the reason is kept in the history with the user.

The audit trail of frameworks, metric definitions, thresholds, deficit and RSP flags and
observations records who, when, before and after (django-simple-history) and, through this,
the reason. Inline rows saved with their parent carry the parent's reason.
"""

from typing import Any

from django import forms
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject, HistoricalChanges, ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from adminkit.refusals import ExplainedRefusals


class ReasonedChangeForm(forms.ModelForm):
    """Every edit of an existing row says why, for the history."""

    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="Kept in the history with your name.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and self.has_changed() and not cleaned.get("change_reason"):
            self.add_error("change_reason", "Say why you are changing this.")
        return cleaned


class ReadableChanges(HistoricalRecordContextHelper):
    """A history's changes as a regulator reads them.

    simple-history shows a foreign key that was empty as "Deleted user (pk=None)": every
    release's first approval read "Approved by: Deleted user (pk=None) → approver". An empty
    field is shown as empty; a row that really was deleted keeps its "Deleted ..." label.
    """

    def prepare_delta_change_value(self, change: ModelChange, value: Any) -> Any:
        if isinstance(value, DeletedObject) and value.pk is None:
            return "–"
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(ExplainedRefusals, SimpleHistoryAdmin):
    """Every admin with a history page: changes read as above, and (in the template
    simple_history/object_history_list.html) a change nobody made by hand is by "system";
    refusals say why (adminkit.refusals)."""

    def get_historical_record_context_helper(
        self, request: HttpRequest, historical_record: HistoricalChanges
    ) -> HistoricalRecordContextHelper:
        return ReadableChanges(self.model, historical_record)


class ReasonedHistoryAdmin(HistoryAdmin):
    """A history-keeping admin whose edits need a reason (inlines inherit it)."""

    form = ReasonedChangeForm

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        reason = form.cleaned_data.get("change_reason") or ("Created" if not change else "")
        obj._change_reason = reason
        request._admin_change_reason = reason  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: Any, change: bool
    ) -> None:
        reason = getattr(request, "_admin_change_reason", "")
        for instance in formset.save(commit=False):
            instance._change_reason = reason
            self.before_inline_save(request, instance)
            instance.save()
        for instance in formset.deleted_objects:
            instance.delete()
        formset.save_m2m()

    def before_inline_save(self, request: HttpRequest, instance: Any) -> None:
        """Hook for subclasses to fill fields of inline rows (e.g. the author)."""
