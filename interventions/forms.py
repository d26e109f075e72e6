from django import forms
from django.contrib.auth.forms import AuthenticationForm

from interventions.evidence import ProgressUpdateChecks, evidence_link_field
from interventions.models import ActionUpdate
from interventions.nhsuk_forms import NHSUKBoundField, NHSUKDateField, NHSUKForm, NHSUKModelForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form, drawn like the rest of the trust area."""

    template_name = "nhsuk/forms/form.html"
    bound_field_class = NHSUKBoundField
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }


class ActionUpdateForm(ProgressUpdateChecks, NHSUKModelForm):
    """What a board member may add to an action: a dated note with evidence, nothing else."""

    date = NHSUKDateField(
        label="Date of the progress",
        help_text="For example, 15 3 2026",
        error_messages={"required": "Enter the date of the progress"},
    )
    # Declared rather than generated from the model, to say links are https unless written out.
    evidence_link = evidence_link_field()

    class Meta:
        model = ActionUpdate
        fields = ["date", "text", "evidence_file"]
        labels = {
            "text": "What has happened",
            "evidence_file": "Evidence file (optional)",
        }
        help_texts = {
            "evidence_file": "PDF, Word, Excel, PowerPoint, OpenDocument, CSV, text or an "
            "image (PNG or JPEG), at most 20 MB.",
        }
        error_messages = {"text": {"required": "Say what has happened"}}
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}


class ProposeCompleteForm(NHSUKForm):
    note = forms.CharField(
        label="Why the action is complete",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The regulator reads this before confirming.",
        error_messages={"required": "Say why the action is complete"},
    )
