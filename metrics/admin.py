from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from adminkit.history import HistoryAdmin, ReasonedChangeForm, ReasonedHistoryAdmin
from adminkit.readonly import ReadOnlyAdminMixin
from adminkit.refusals import ExplainedRefusals, RefusingInlineFormSet
from metrics.admin_display import tag
from metrics.imports.supplied_scores import VALUE_FIELDS
from metrics.imports.uploads import UPLOAD_PERMISSION, UploadForm, confirm_upload, receive_upload
from metrics.models import (
    ComplaintsYear,
    Domain,
    DomainThresholds,
    Framework,
    ImportRun,
    Metric,
    MetricDefinition,
    Observation,
    Quarter,
    SurveySectionResult,
    Thresholds,
    TrustQuarterStatus,
    known_subtypes,
    stale_score_reason,
)
from metrics.services import new_framework_version
from metrics.signals import announce_changed_quarters
from metrics.tasks import import_file
from metrics.units import quantity
from trusts.models import PeerGroup


@admin.register(Quarter)
class QuarterAdmin(admin.ModelAdmin):
    list_display = ["label", "start_date", "end_date"]


class DomainInline(admin.TabularInline):
    model = Domain
    formset = RefusingInlineFormSet
    extra = 0


class ThresholdsInline(admin.TabularInline):
    model = Thresholds
    formset = RefusingInlineFormSet
    extra = 0
    fields = ["quarter", "method", "t1", "t2", "t3", "source"]
    list_select_related = ["quarter"]


class DomainThresholdsInline(admin.TabularInline):
    """Beside the overall thresholds: three per domain and quarter (METHODOLOGY 4.6)."""

    model = DomainThresholds
    formset = RefusingInlineFormSet
    extra = 0
    fields = ["quarter", "domain", "method", "t1", "t2", "t3", "source"]
    list_select_related = ["quarter", "domain"]


@admin.register(Framework)
class FrameworkAdmin(ReasonedHistoryAdmin):
    list_display = ["name", "version", "peer_group", "status", "use_supplied_scores"]
    list_filter = ["status", "peer_group"]
    list_select_related = ["peer_group"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["quarters"]
    inlines = [DomainInline, ThresholdsInline, DomainThresholdsInline]
    actions = ["make_new_version"]

    @admin.action(
        description="Make a new version of the selected frameworks (to change one that "
        "signed-off releases used)",
        permissions=["add"],
    )
    def make_new_version(self, request: HttpRequest, queryset: Any) -> None:
        for framework in queryset:
            copy = new_framework_version(
                framework, request.user, f"New version of {framework}, made in the admin"
            )
            url = reverse("admin:metrics_framework_change", args=[copy.pk])
            self.message_user(
                request,
                format_html(
                    '<a href="{}">{}</a> is a draft copy of {}: change it, then make it active '
                    "(and retire the old version) for new releases to use it.",
                    url,
                    copy,
                    framework,
                ),
                messages.SUCCESS,
            )


@admin.register(Metric)
class MetricAdmin(ReasonedHistoryAdmin):
    list_display = ["code", "name", "unit", "direction", "is_patient_experience", "is_synthetic"]
    list_filter = ["direction", "is_patient_experience", "is_synthetic"]
    search_fields = ["code", "score_code", "name"]


class MetricDefinitionForm(ReasonedChangeForm):
    """The subtypes a metric applies to as boxes to tick: those of the framework's peer group
    (of every peer group while adding), so a misspelt subtype cannot be typed."""

    applies_to_subtypes = forms.MultipleChoiceField(
        label="Applies to subtypes",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=MetricDefinition._meta.get_field("applies_to_subtypes").help_text,
    )

    class Meta:
        model = MetricDefinition
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        groups = (
            [instance.framework.peer_group] if instance.framework_id else PeerGroup.objects.all()
        )
        names = set(instance.applies_to_subtypes or [])
        for group in groups:
            names |= known_subtypes(group)
        self.fields["applies_to_subtypes"].choices = [(name, name) for name in sorted(names)]


@admin.register(MetricDefinition)
class MetricDefinitionAdmin(ReasonedHistoryAdmin):
    form = MetricDefinitionForm
    list_display = [
        "metric",
        "framework",
        "domain",
        "method",
        "pool",
        "counted",
        "applies_to",
        "has_assumptions",
    ]
    list_filter = ["framework", "method", "pool", "counted", "domain__name"]
    list_select_related = ["metric", "framework", "domain"]
    search_fields = ["metric__code", "metric__name"]

    @admin.display(boolean=True, description="Assumptions")
    def has_assumptions(self, definition: MetricDefinition) -> bool:
        return bool(definition.assumptions)

    @admin.display(description="Applies to")
    def applies_to(self, definition: MetricDefinition) -> str:
        return ", ".join(definition.applies_to_subtypes) or "Every subtype"


@admin.register(Thresholds)
class ThresholdsAdmin(ReasonedHistoryAdmin):
    fields = ["framework", "quarter", "method", "t1", "t2", "t3", "source", "change_reason"]
    list_display = ["framework", "quarter", "method", "t1", "t2", "t3"]
    list_filter = ["framework", "method"]
    list_select_related = ["framework", "quarter"]


@admin.register(DomainThresholds)
class DomainThresholdsAdmin(ReasonedHistoryAdmin):
    fields = [
        "framework",
        "quarter",
        "domain",
        "method",
        "t1",
        "t2",
        "t3",
        "source",
        "change_reason",
    ]
    list_display = ["framework", "quarter", "domain", "method", "t1", "t2", "t3"]
    list_filter = ["framework", "quarter", "method", "domain__name"]
    list_select_related = ["framework", "quarter", "domain"]


@admin.register(ImportRun)
class ImportRunAdmin(ExplainedRefusals, admin.ModelAdmin):
    never = {
        "add": "Files arrive through the upload page (Import runs → “Upload a data file”): "
        "each is checked before you confirm it, never typed in.",
        "change": "An import's record is the provenance of the data it loaded and is never "
        "changed: to correct the data, upload a corrected file.",
    }
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
            run.get_status_display(),
        )


class ObservationForm(ReasonedChangeForm):
    """An observation's edit; a new value never keeps the score supplied for the old one."""

    score_still_holds = forms.BooleanField(
        required=False,
        label="The supplied score holds for the new value",
        help_text="Tick only if the source gives the same score for the corrected value; "
        "otherwise enter its score.",
    )

    class Meta:
        model = Observation
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        stored = self.instance  # still as stored: the form's values are set on it after this
        if (
            stored.pk is None
            or stored.supplied_score is None
            or "supplied_score" in self.changed_data
            or cleaned.get("score_still_holds")
        ):
            return cleaned
        for name in VALUE_FIELDS:
            if name in self.changed_data and name in cleaned:
                reason = stale_score_reason(
                    stored.trust.ods_code,
                    stored.metric,
                    stored.quarter.label,
                    getattr(stored, name),
                    cleaned[name],
                    stored.supplied_score,
                )
                self.add_error(
                    "supplied_score",
                    f"{reason}. Enter the score for the new value, or tick “"
                    f"{self.fields['score_still_holds'].label}” if the source says so.",
                )
                break
        return cleaned


class AnnouncesChangedInputs:
    """A ModelAdmin mixin for the inputs of a release (observations, deficit and RSP flags):
    adding, changing, deleting or reverting one by hand tells the drafts of its quarter, as an
    import does, so they recompute and are never offered for submission with numbers the data
    no longer gives (README, "How a quarter goes", step 2)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The quarter it was in, too: a row moved to another quarter changes both.
        before = (
            type(obj).objects.filter(pk=obj.pk).values_list("quarter_id", flat=True).first()
            if change and obj.pk is not None
            else None
        )
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        announce_changed_quarters(type(obj), [before, obj.quarter_id])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        quarter_id = obj.quarter_id
        super().delete_model(request, obj)  # type: ignore[misc]
        announce_changed_quarters(type(obj), [quarter_id])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        quarter_ids = list(queryset.order_by().values_list("quarter_id", flat=True).distinct())
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        announce_changed_quarters(queryset.model, quarter_ids)


@admin.register(Observation)
class ObservationAdmin(AnnouncesChangedInputs, ReasonedHistoryAdmin):
    list_display = [
        "trust",
        "metric_code",
        "quarter",
        "value_with_unit",
        "supplied_score",
        "synthetic",
    ]
    list_filter = ["quarter", "is_synthetic", "trust__peer_group", "metric"]
    list_select_related = ["trust", "metric", "quarter"]
    search_fields = ["trust__ods_code", "trust__name", "metric__code"]
    raw_id_fields = ["trust", "metric", "quarter"]
    readonly_fields = ["import_run", "source_line", "is_synthetic"]
    form = ObservationForm

    def get_fields(self, request: HttpRequest, obj: Observation | None = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        if obj is None or obj.supplied_score is None:
            fields.remove("score_still_holds")  # asked only where a score was supplied
        return fields

    @admin.display(description="Metric", ordering="metric__code")
    def metric_code(self, observation: Observation) -> SafeString:
        return format_html(
            '<abbr title="{}">{}</abbr>', observation.metric.name, observation.metric.code
        )

    @admin.display(description="Value", ordering="value")
    def value_with_unit(self, observation: Observation) -> str:
        if observation.value_text:
            return observation.value_text
        if observation.value is None:
            return "Score only" if observation.supplied_score is not None else "Not reported"
        return quantity(observation.value, observation.metric.unit)

    @admin.display(description="Synthetic", ordering="is_synthetic")
    def synthetic(self, observation: Observation) -> SafeString | str:
        return tag("grey", "Synthetic") if observation.is_synthetic else ""


@admin.register(TrustQuarterStatus)
class TrustQuarterStatusAdmin(AnnouncesChangedInputs, ReasonedHistoryAdmin):
    list_display = ["trust", "quarter", "in_financial_deficit", "in_recovery_support"]
    list_filter = ["quarter", "in_financial_deficit", "in_recovery_support", "trust__peer_group"]
    list_select_related = ["trust", "quarter"]
    search_fields = ["trust__ods_code", "trust__name"]
    raw_id_fields = ["trust"]
    readonly_fields = ["import_run"]


@admin.register(ComplaintsYear)
class ComplaintsYearAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """KO41a complaints: written only by their importer, so a change is always a new file."""

    read_only_reason = (
        "Complaints are written only by their importer, from NHS England's KO41a file: to "
        "change them, upload a corrected file."
    )

    list_display = ["trust", "year", "new", "resolved", "upheld", "partly_upheld", "not_upheld"]
    list_filter = ["year", "trust__peer_group"]
    list_select_related = ["trust"]
    search_fields = ["trust__ods_code", "trust__name"]


@admin.register(SurveySectionResult)
class SurveySectionResultAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """CQC survey sections: written only by their importer, so a change is always a new file."""

    read_only_reason = (
        "Survey results are written only by their importer, from CQC's benchmark file: to "
        "change them, upload a corrected file."
    )

    list_display = ["trust", "survey", "year", "section", "mean", "band"]
    list_filter = ["survey", "year", "section", "band"]
    list_select_related = ["trust"]
    search_fields = ["trust__ods_code", "trust__name"]


class UploadViews:
    """The upload pages, mounted on the ImportRun admin by its `get_urls`."""

    def __init__(self, model_admin: ModelAdmin) -> None:
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload), name="metrics_importrun_upload"),
            path("upload/<int:run_id>/", view(self.status), name="metrics_importrun_upload_status"),
        ]

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model_admin.opts,
            **extra,
        }

    def upload(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(UPLOAD_PERMISSION):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            run = receive_upload(form.cleaned_data["kind"], form.cleaned_data["file"], request.user)
            if run.status == ImportRun.Status.REJECTED:
                self.model_admin.message_user(
                    request,
                    f"{run.file_name} has invalid rows; nothing was saved. Every one is listed.",
                    messages.ERROR,
                )
            return HttpResponseRedirect(
                reverse("admin:metrics_importrun_upload_status", args=[run.pk])
            )
        return TemplateResponse(
            request,
            "admin/uploads/upload.html",
            self._context(request, title="Upload a data file", form=form),
        )

    def status(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not request.user.has_perm("metrics.view_importrun"):
            raise PermissionDenied
        run = ImportRun.objects.select_related("imported_by").filter(pk=run_id).first()
        if run is None or not run.uploaded_file:
            raise Http404("No such upload.")
        if request.method == "POST":
            if not request.user.has_perm(UPLOAD_PERMISSION):
                raise PermissionDenied
            if confirm_upload(run):
                run_id = run.pk
                transaction.on_commit(lambda: import_file.delay(run_id))
                self.model_admin.message_user(request, f"{run.file_name}: import queued.")
            else:
                self.model_admin.message_user(
                    request, f"{run.file_name} is not awaiting confirmation.", messages.WARNING
                )
            return HttpResponseRedirect(
                reverse("admin:metrics_importrun_upload_status", args=[run.pk])
            )
        current = run.status
        return TemplateResponse(
            request,
            "admin/uploads/status.html",
            self._context(
                request,
                title=f"Upload: {run.file_name}",
                run=run,
                stage=current,
                in_progress=current in ("queued", "importing"),
                can_confirm=current == "awaiting" and request.user.has_perm(UPLOAD_PERMISSION),
            ),
        )
