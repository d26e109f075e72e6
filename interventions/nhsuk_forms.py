"""Django forms drawn as NHS.UK design system components, as on the public site.

Every form of the trust area renders through `NHSUKForm`: an error summary at the top linking
to each field, each field in an `nhsuk-form-group` with its label, hint and error message tied
to the input by `aria-describedby`, and dates as the NHS.UK date input (day, month and year
boxes) rather than a browser date picker whose format follows the browser's locale.
"""

import datetime
import re
from typing import Any

from django import forms
from django.forms.boundfield import BoundField

# What each box of the date input may hold, in ASCII digits (the keypad NHS.UK asks for).
_DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]{4}")

INPUT_CLASSES = {
    forms.Textarea: "nhsuk-textarea",
    forms.Select: "nhsuk-select",
    forms.ClearableFileInput: "nhsuk-file-upload",
    forms.FileInput: "nhsuk-file-upload",
    forms.CheckboxInput: "nhsuk-checkboxes__input",
}


class NHSUKBoundField(BoundField):
    @property
    def hint_id(self) -> str:
        return f"{self.auto_id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}-error"

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if isinstance(widget, NHSUKDateInput):
            return attrs  # its boxes are styled by the widget, and described by the fieldset
        css = next(
            (name for kind, name in INPUT_CLASSES.items() if isinstance(widget, kind)),
            "nhsuk-input",
        )
        if self.errors:
            css += f" {css}--error" if css != "nhsuk-file-upload" else " nhsuk-input--error"
        attrs["class"] = " ".join(filter(None, [attrs.get("class", ""), css]))
        described = [self.hint_id] if self.help_text else []
        if self.errors:
            described.append(self.error_id)
        if described:
            attrs["aria-describedby"] = " ".join(described)
        else:
            attrs.pop("aria-describedby", None)
        return attrs


class NHSUKForm(forms.Form):
    """Renders as NHS.UK components: `{{ form }}` in a template is the whole form body."""

    template_name = "nhsuk/forms/form.html"
    bound_field_class = NHSUKBoundField


class NHSUKModelForm(forms.ModelForm):
    template_name = "nhsuk/forms/form.html"
    bound_field_class = NHSUKBoundField


class NHSUKDateInput(forms.MultiWidget):
    """The NHS.UK date input: day, month and year boxes, numeric keyboards on phones."""

    template_name = "nhsuk/forms/date_input.html"
    parts = (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4))

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = {
            name: forms.TextInput(
                attrs={
                    "class": f"nhsuk-input nhsuk-date-input__input nhsuk-input--width-{width}",
                    "inputmode": "numeric",
                }
            )
            for name, _label, width in self.parts
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        invalid = context["widget"]["attrs"].get("aria-invalid") == "true"
        base_id = context["widget"]["attrs"].get("id")
        for subwidget, (part, label, _width) in zip(
            context["widget"]["subwidgets"], self.parts, strict=True
        ):
            subwidget["label"] = label
            if base_id:
                subwidget["attrs"]["id"] = f"{base_id}_{part}"  # what the error summary links to
            subwidget["attrs"].pop("aria-invalid", None)
            if invalid:
                subwidget["attrs"]["class"] += " nhsuk-input--error"
        return context


class NHSUKDateField(forms.Field):
    """A date from the three boxes, with an error that says which part is missing or wrong."""

    widget = NHSUKDateInput

    def __init__(self, *, max_date_today: bool = False, **kwargs: Any) -> None:
        self.max_date_today = max_date_today
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime.date | None:
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            value = [value]
        parts = ([str(part or "").strip() for part in (value or [])] + ["", "", ""])[:3]
        if not any(parts):
            return None
        label = str(self.label or "The date")
        names = [name for name, _label, _width in NHSUKDateInput.parts]
        missing = [name for name, part in zip(names, parts, strict=True) if not part]
        if missing:
            raise forms.ValidationError(f"{label} must include a {' and '.join(missing)}")
        day, month, year = parts
        # ASCII digits only: str.isdigit() also passes "²" and "٣", and a day or month of any
        # length would reach datetime.date, which overflows (a 500) rather than refusing it.
        if not (_DAY_OR_MONTH.fullmatch(day) and _DAY_OR_MONTH.fullmatch(month)):
            raise forms.ValidationError(f"{label} must be a real date", code="invalid")
        if not _YEAR.fullmatch(year):
            raise forms.ValidationError(
                f"{label} must be a real date, with the year in four digits, like 15 3 2026",
                code="invalid",
            )
        try:
            return datetime.date(int(year), int(month), int(day))
        except (ValueError, OverflowError) as error:
            raise forms.ValidationError(f"{label} must be a real date", code="invalid") from error

    def widget_attrs(self, widget: Any) -> dict[str, Any]:
        return {}
