"""Filters and sort orders of a league table, shared by the page and the API.

One filterset so the page's query string and the API's are the same: `?region=london&segment=2
&sort=-average` means the same thing at `/league-tables/...` and at `/api/v1/releases/<id>/rows/`.
Names, regions and subtypes are the rows' own, as the release has them.
"""

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy

from public.search import matches, matching_trust_ids
from releases.models import TrustResult

SEGMENT_CHOICES = [(str(n), f"Segment {n}") for n in range(1, 6)]

# Sort key -> (label, columns). Nulls always last, whichever the direction, so a trust without
# a rank never heads the table.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rank": ("Rank", ("rank", "trust_name")),
    "name": ("Trust name", ("trust_name",)),
    "code": ("ODS code", ("trust__ods_code",)),
    "region": ("Region", ("region__name", "rank")),
    "subtype": ("Subtype", ("trust_subtype", "rank")),
    "segment": ("Segment", ("segment", "rank")),
    "average": ("Average score", ("average_score", "trust_name")),
    "deficit": ("Financial deficit", ("in_financial_deficit", "rank")),
    "movement": ("Movement since last quarter", ("movement", "rank")),
}
SORT_CHOICES = [
    choice
    for key, (label, _) in SORTS.items()
    for choice in ((key, f"{label}, ascending"), (f"-{key}", f"{label}, descending"))
]
DEFAULT_SORT = "rank"


def sort_expressions(sort: str) -> list[OrderBy]:
    descending = sort.startswith("-")
    _, columns = SORTS.get(sort.lstrip("-"), SORTS[DEFAULT_SORT])
    primary, *ties = columns
    first = F(primary).desc(nulls_last=True) if descending else F(primary).asc(nulls_last=True)
    # Ties keep table order whichever way the column is sorted; the trust's id makes it total.
    return [first, *(F(c).asc(nulls_last=True) for c in ties), F("trust_id").asc()]


TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


class YesNoField(forms.Field):
    """true/false, 1/0 or yes/no in any case; absent or empty is no filter; anything else is
    refused by name. Django's own boolean field reads "1" as unknown (no filter) and "2" as
    true, after its select widget, so a filter asked for plainly was silently not applied."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:
        if value is None or value == "":
            return None
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(
            "%(value)s is not true or false: use true, false, 1, 0, yes or no.",
            code="invalid",
            params={"value": repr(str(value))},
        )


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class LeagueTableFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Trust name or ODS code")
    # A slug, not a choice of the regions there are: an unknown region matches no trust
    # (the API's schema says any string), rather than refusing the request.
    region = django_filters.CharFilter(field_name="region__slug", label="Region slug")
    subtype = django_filters.CharFilter(
        field_name="trust_subtype", lookup_expr="iexact", label="Subtype"
    )
    segment = django_filters.ChoiceFilter(
        choices=SEGMENT_CHOICES, label="Segment", empty_label="All segments"
    )
    deficit = YesNoFilter(
        field_name="in_financial_deficit",
        label="In financial deficit: true or false (1/0 and yes/no are read too)",
    )
    # The rows come annotated by public.uncertainty.with_segment_uncertainty.
    segment_uncertain = YesNoFilter(
        field_name="segment_uncertain",
        label="Segment uncertain (the likely range of the average crosses a threshold): true or "
        "false (1/0 and yes/no are read too)",
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="order", label="Sort by", empty_label=None
    )

    class Meta:
        model = TrustResult
        fields: list[str] = []

    def search(self, queryset: QuerySet[TrustResult], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        # The name the table shows or the trust's current name (a renamed trust is found by
        # either), compared as people type: case, accents and apostrophes do not matter.
        published = [
            trust_id
            for trust_id, trust_name in queryset.values_list("trust_id", "trust_name")
            if matches(trust_name, "", value)
        ]
        return queryset.filter(trust_id__in=[*matching_trust_ids(value), *published])

    def order(self, queryset: QuerySet[TrustResult], name: str, value: str) -> QuerySet:
        # Applied in filter_queryset so an absent sort still orders by rank.
        return queryset

    def filter_queryset(self, queryset: QuerySet[TrustResult]) -> QuerySet[TrustResult]:
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*sort_expressions(self.current_sort))

    @property
    def current_sort(self) -> str:
        if not self.is_bound:
            return DEFAULT_SORT
        self.form.is_valid()  # cleaned_data keeps the valid fields of an invalid form
        cleaned: dict[str, Any] = self.form.cleaned_data
        return cleaned.get("sort") or DEFAULT_SORT
