from django.contrib import admin
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from leaguetable.models import MetricPeerStatistics, MetricResult, Release, TrustResult


class TrustResultInline(admin.TabularInline):
    model = TrustResult
    extra = 0
    can_delete = False
    fields = [
        "rank",
        "trust",
        "segment",
        "average_score",
        "average_low",
        "average_high",
        "rank_low",
        "rank_high",
        "in_financial_deficit",
        "in_recovery_support",
        "previous_rank",
    ]
    readonly_fields = fields
    ordering = ["rank"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("trust")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Release)
class ReleaseAdmin(SimpleHistoryAdmin):
    list_display = [
        "__str__",
        "quarter",
        "peer_group",
        "revision",
        "status",
        "computation",
        "progress_display",
        "computed_at",
        "published_at",
    ]
    list_filter = ["status", "computation", "peer_group", "quarter"]
    list_select_related = ["quarter", "peer_group", "framework"]
    readonly_fields = [
        "computation",
        "progress",
        "progress_message",
        "failure_reason",
        "computed_at",
        "computation_seconds",
        "input_checksum",
        "prepared_by",
        "submitted_by",
        "submitted_at",
        "approved_by",
        "approved_at",
        "published_at",
        "supersedes",
    ]
    inlines = [TrustResultInline]

    @admin.display(description="Progress")
    def progress_display(self, release: Release) -> str:
        if release.computation == Release.Computation.RUNNING:
            return format_html("{}% {}", round(release.progress * 100), release.progress_message)
        if release.computation == Release.Computation.FAILED:
            return format_html("<strong>Failed</strong>: {}", release.failure_reason[:120])
        return release.get_computation_display()


@admin.register(TrustResult)
class TrustResultAdmin(admin.ModelAdmin):
    list_display = [
        "release",
        "rank",
        "trust",
        "segment",
        "average_score",
        "average_low",
        "average_high",
        "rank_low",
        "rank_high",
    ]
    list_filter = ["release__quarter", "release__peer_group", "segment"]
    list_select_related = ["release__quarter", "release__peer_group", "trust"]
    search_fields = ["trust__ods_code", "trust__name"]


@admin.register(MetricResult)
class MetricResultAdmin(admin.ModelAdmin):
    list_display = ["release", "trust", "metric", "value", "score"]
    list_filter = ["release__quarter", "release__peer_group", "metric"]
    list_select_related = ["release__quarter", "release__peer_group", "trust", "metric"]
    search_fields = ["trust__ods_code", "metric__code"]


@admin.register(MetricPeerStatistics)
class MetricPeerStatisticsAdmin(admin.ModelAdmin):
    list_display = [
        "release",
        "metric",
        "trusts_reporting",
        "lower_quartile",
        "median",
        "upper_quartile",
    ]
    list_select_related = ["release__quarter", "release__peer_group", "metric"]
