import datetime

from django import forms
from django.utils import timezone

from interventions.models import ActionUpdate


class ActionUpdateForm(forms.ModelForm):
    """What a board member may add to an action: a dated note with evidence, nothing else."""

    # Declared rather than generated from the model, to say links are https unless written out.
    evidence_link = forms.URLField(
        label="Or a link to the evidence (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
    )

    class Meta:
        model = ActionUpdate
        fields = ["date", "text", "evidence_file"]
        labels = {
            "date": "Date of the progress",
            "text": "What has happened",
            "evidence_file": "Evidence file (optional)",
        }
        help_texts = {
            "date": "For example, 17 3 2026 is written 2026-03-17.",
            "evidence_file": "PDF, Office, OpenDocument, CSV, text or image, at most 20 MB.",
        }
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "text": forms.Textarea(attrs={"rows": 5}),
        }

    def clean_date(self) -> datetime.date:
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError("Progress cannot be dated in the future.")
        return date


class ProposeCompleteForm(forms.Form):
    note = forms.CharField(
        label="Why the action is complete",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The regulator reads this before confirming.",
    )
