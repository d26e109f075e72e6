from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from metrics.admin_reasons import ReasonedHistoryAdmin
from metrics.admin_uploads import UPLOAD_PERMISSION, UploadViews, stage
from metrics.models import (
    Domain,
    Framework,
    ImportRun,
    Metric,
    MetricDefinition,
    Observation,
    Quarter,
    Thresholds,
    TrustQuarterStatus,
)


@admin.register(Quarter)
class QuarterAdmin(admin.ModelAdmin):
    list_display = ["label", "start_date", "end_date"]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class ThresholdsInline(admin.TabularInline):
    model = Thresholds
    extra = 0
    list_select_related = ["quarter"]


@admin.register(Framework)
class FrameworkAdmin(ReasonedHistoryAdmin):
    list_display = ["name", "version", "peer_group", "status", "use_supplied_scores"]
    list_filter = ["status", "peer_group"]
    list_select_related = ["peer_group"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["quarters"]
    inlines = [DomainInline, ThresholdsInline]


@admin.register(Metric)
class MetricAdmin(ReasonedHistoryAdmin):
    list_display = ["code", "name", "unit", "direction", "is_patient_experience", "is_synthetic"]
    list_filter = ["direction", "is_patient_experience", "is_synthetic"]
    search_fields = ["code", "score_code", "name"]


@admin.register(MetricDefinition)
class MetricDefinitionAdmin(ReasonedHistoryAdmin):
    list_display = ["metric", "framework", "domain", "method", "pool", "counted", "has_assumptions"]
    list_filter = ["framework", "method", "pool", "counted", "domain__name"]
    list_select_related = ["metric", "framework", "domain"]
    search_fields = ["metric__code", "metric__name"]

    @admin.display(boolean=True, description="Assumptions")
    def has_assumptions(self, definition: MetricDefinition) -> bool:
        return bool(definition.assumptions)


@admin.register(Thresholds)
class ThresholdsAdmin(ReasonedHistoryAdmin):
    list_display = ["framework", "quarter", "method", "t1", "t2", "t3"]
    list_filter = ["framework", "method"]
    list_select_related = ["framework", "quarter"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    change_list_template = "admin/uploads/importrun_change_list.html"
    list_display = [
        "started_at",
        "kind",
        "file_name",
        "status",
        "rows_read",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "imported_by",
        "upload_link",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["imported_by"]
    search_fields = ["file_name", "checksum"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def get_urls(self) -> list:
        # The upload pages come first: "upload/" would otherwise be taken for an object id.
        return UploadViews(self).urls() + super().get_urls()

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Files arrive through the upload page (validate, then confirm), never a bare form.
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False  # provenance is read-only

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "can_upload": request.user.has_perm(UPLOAD_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="Upload")
    def upload_link(self, run: ImportRun) -> str:
        if not run.uploaded_file:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:metrics_importrun_upload_status", args=[run.pk]),
            stage(run),
        )


@admin.register(Observation)
class ObservationAdmin(ReasonedHistoryAdmin):
    list_display = [
        "trust",
        "metric",
        "quarter",
        "value",
        "value_text",
        "supplied_score",
        "reporting_period",
        "is_synthetic",
    ]
    list_filter = ["quarter", "is_synthetic", "trust__peer_group", "metric"]
    list_select_related = ["trust", "metric", "quarter"]
    search_fields = ["trust__ods_code", "trust__name", "metric__code"]
    raw_id_fields = ["trust", "metric", "quarter"]
    readonly_fields = ["import_run", "source_line", "is_synthetic"]


@admin.register(TrustQuarterStatus)
class TrustQuarterStatusAdmin(ReasonedHistoryAdmin):
    list_display = ["trust", "quarter", "in_financial_deficit", "in_recovery_support"]
    list_filter = ["quarter", "in_financial_deficit", "in_recovery_support", "trust__peer_group"]
    list_select_related = ["trust", "quarter"]
    search_fields = ["trust__ods_code", "trust__name"]
    raw_id_fields = ["trust"]
    readonly_fields = ["import_run"]
