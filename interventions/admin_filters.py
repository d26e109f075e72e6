"""List filters the regulator's to-do list links to: each names one kind of waiting decision."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from interventions.models import SupportAction, SupportPlan
from interventions.selectors import plans_ready_to_close


class PlanReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("passed", "Review date passed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "passed":
            return queryset.filter(
                pk__in=SupportPlan.objects.review_passed(timezone.localdate()).values("pk")
            )
        return queryset


class ExitCriteriaFilter(admin.SimpleListFilter):
    title = "exit criteria"
    parameter_name = "exit"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("met", "All met, awaiting acceptance")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "met":
            return queryset.filter(pk__in=plans_ready_to_close())
        return queryset


class AwaitingCompletionFilter(admin.SimpleListFilter):
    title = "awaiting a decision"
    parameter_name = "awaiting"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("completion", "Proposed complete, awaiting a decision")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "completion":
            return queryset.filter(pk__in=SupportAction.objects.awaiting_completion().values("pk"))
        return queryset
