"""The regulators' side: freedoms and plans with filters, inline actions, and history.

Status changes only happen through the admin actions below, which ask for a reason and call the
same service functions as everything else; the status fields themselves are read-only. Any other
edit asks for a reason too, stored in the history with the user.

Board members are kept out: they hold none of these permissions and use the trust area. The
querysets are scoped with `visible_to` as well, so a permission granted by mistake would still
show a board member nothing beyond their own trust.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from adminkit.actions import confirm_with_reason
from adminkit.history import HistoryAdmin, ReasonedHistoryAdmin
from adminkit.readonly import ReadOnlyAdminMixin
from interventions.admin_filters import (
    AwaitingCompletionFilter,
    ExitCriteriaFilter,
    PlanReviewFilter,
)
from interventions.evidence import ProgressUpdateChecks, evidence_link_field
from interventions.models import (
    ActionUpdate,
    CriterionEvaluation,
    ExitCriterion,
    FreedomGrant,
    FreedomType,
    SupportAction,
    SupportPlan,
)
from interventions.selectors import framework_metrics, regulators
from interventions.services import InterventionError
from interventions.services import freedoms as freedom_services
from interventions.services import support as support_services
from metrics.admin_display import review_date, tag

ReasonService = Callable[[Any, Any, str], Any]


def reason_action(
    service: ReasonService, verb: str, *, permission: str = "decide"
) -> Callable[..., TemplateResponse | None]:
    def action(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
    ) -> TemplateResponse | None:
        def apply(obj: Any, data: dict[str, Any]) -> None:
            service(obj, request.user, data["reason"])  # counted: "Grant: 70." for a page

        return confirm_with_reason(
            modeladmin,
            request,
            queryset,
            verb=verb,
            apply=apply,
            refusals=(InterventionError,),
        )

    action.__name__ = "action_" + verb.lower().replace(" ", "_").replace(",", "")
    return admin.action(description=f"{verb}…", permissions=[permission])(action)


class ReasonedAdmin(ReasonedHistoryAdmin):
    decide_permission = ""
    never = {
        "delete": "Freedoms, support plans and their actions are never deleted: their history "
        "is the record. End one by its status instead, with a reason, from the list's actions "
        "(decline, revoke or expire a freedom; decline or close a plan).",
    }

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.decide_permission)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the history is the record; rows end by status, not deletion

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        # 404, not the admin's usual redirect, for a row outside the user's scope: the same
        # answer as the trust area gives.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # simple-history falls back to the history rows of an object outside the queryset.
        self.get_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # Reverting would restore an old status without its transition and reason.
        if request.method != "GET":
            raise PermissionDenied
        self.get_object(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def before_inline_save(self, request: HttpRequest, instance: Any) -> None:
        if hasattr(instance, "author_id") and not instance.author_id:
            instance.author = request.user


class ScopedInlineMixin:
    """Inlines follow their parent's scope; rows are never deleted from an inline."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OverdueFilter(admin.SimpleListFilter):
    """Yes/no on "has overdue actions"; subclasses say which rows count as overdue today."""

    parameter_name = "overdue"
    yes_label = "Overdue"
    no_label = "Not overdue"

    def overdue(self) -> QuerySet:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", self.yes_label), ("no", self.no_label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        overdue = self.overdue().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue)
        return queryset


class OverdueActionsFilter(OverdueFilter):
    title = "overdue actions"
    yes_label = "Has overdue actions"
    no_label = "No overdue actions"

    def overdue(self) -> QuerySet:
        return SupportPlan.objects.with_overdue_actions(timezone.localdate())


class OverdueActionFilter(OverdueFilter):
    title = "overdue"

    def overdue(self) -> QuerySet:
        return SupportAction.objects.overdue(timezone.localdate())


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("overdue", "Review date passed"), ("due", "Review due within 30 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today = timezone.localdate()
        granted = queryset.filter(status=FreedomGrant.Status.GRANTED)
        if self.value() == "overdue":
            return granted.filter(review_date__lt=today)
        if self.value() == "due":
            return granted.filter(
                review_date__gte=today, review_date__lte=today + datetime.timedelta(days=30)
            )
        return queryset


@admin.register(FreedomType)
class FreedomTypeAdmin(HistoryAdmin):
    never = {
        "delete": "A kind of freedom is never deleted: grants name it and its history is the "
        "record. Untick “Is active” to stop proposing it.",
    }
    list_display = ["name", "slug", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FreedomGrant)
class FreedomGrantAdmin(ReasonedAdmin):
    never = {
        **ReasonedAdmin.never,
        "add": "Freedoms are proposed from a published league table to the trusts it makes "
        "eligible, never typed in: decide on the proposals in this list.",
    }
    decide_permission = "interventions.decide_freedomgrant"
    list_display = [
        "trust",
        "freedom_type",
        "status_tag",
        "earned_by",
        "start",
        "review",
        "is_public",
        "why",
    ]
    list_filter = [
        "status",
        "freedom_type",
        "is_public",
        ReviewOverdueFilter,
        ("trust__region", admin.RelatedOnlyFieldListFilter),
        ("trust__peer_group", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["trust", "freedom_type", "earned_by__quarter", "earned_by__peer_group"]
    search_fields = ["trust__ods_code", "trust__name", "freedom_type__name"]
    fields = [
        "trust",
        "freedom_type",
        "earned_by",
        "status",
        "status_reason",
        "status_changed_by",
        "status_changed_at",
        "conditions",
        "start",
        "review_date",
        "is_public",
        "change_reason",
    ]
    readonly_fields = [
        "trust",
        "freedom_type",
        "earned_by",
        "status",
        "status_reason",
        "status_changed_by",
        "status_changed_at",
        "is_public",
    ]
    actions = [
        reason_action(freedom_services.confirm_grant, "Grant"),
        reason_action(freedom_services.decline_grant, "Decline"),
        reason_action(freedom_services.flag_for_review, "Flag for review"),
        reason_action(freedom_services.keep_grant, "Keep after review"),
        reason_action(freedom_services.revoke_grant, "Revoke"),
        reason_action(freedom_services.expire_grant, "Expire"),
        reason_action(
            lambda grant, user, reason: freedom_services.set_grant_public(
                grant, user, True, reason
            ),
            "Make public",
        ),
        reason_action(
            lambda grant, user, reason: freedom_services.set_grant_public(
                grant, user, False, reason
            ),
            "Make private",
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # grants are proposed from a published table, never typed in

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Once a grant is decided, its terms are part of the decision: only someone who may
        decide changes them (with a reason, in the history); anyone may shape a proposal."""
        readonly = list(super().get_readonly_fields(request, obj))
        decided = obj is not None and obj.status != FreedomGrant.Status.PROPOSED
        if decided and not self.has_decide_permission(request):
            readonly += ["conditions", "start", "review_date"]
        return readonly

    @admin.display(description="Status", ordering="status")
    def status_tag(self, grant: FreedomGrant) -> SafeString:
        return tag(grant.status, grant.get_status_display())

    @admin.display(description="Review by", ordering="review_date")
    def review(self, grant: FreedomGrant) -> SafeString | str:
        return review_date(grant.review_date, grant.status == FreedomGrant.Status.GRANTED)

    @admin.display(description="Why")
    def why(self, grant: FreedomGrant) -> str:
        return Truncator(grant.status_reason).chars(90)


class SupportActionInline(ScopedInlineMixin, admin.TabularInline):
    """Compact: the plan page lists its actions; progress and evidence are one click away."""

    model = SupportAction
    extra = 0
    fields = [
        "description",
        "owner_name",
        "owner_email",
        "due_date",
        "status",
        "rag",
        "proposed_complete",
        "overdue",
    ]
    readonly_fields = ["proposed_complete", "overdue"]
    show_change_link = True
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 36})},
        models.CharField: {"widget": forms.TextInput(attrs={"size": 14})},
        models.EmailField: {"widget": forms.EmailInput(attrs={"size": 18})},
    }

    @admin.display(description="Overdue")
    def overdue(self, action: SupportAction) -> SafeString | str:
        if action.pk and action.is_overdue(timezone.localdate()):
            return tag("red", "Overdue")
        return ""


class ExitCriterionInline(ScopedInlineMixin, admin.TabularInline):
    model = ExitCriterion
    extra = 0
    fields = ["kind", "metric", "threshold", "max_segment", "consecutive_quarters", "latest"]
    readonly_fields = ["latest"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        request._exit_criteria_plan = obj  # type: ignore[attr-defined]
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only the metrics of the framework the plan's table was scored with: a mental health
        # plan is never judged on an acute or ambulance metric.
        plan = getattr(request, "_exit_criteria_plan", None)
        if db_field.name == "metric" and plan is not None:
            kwargs["queryset"] = framework_metrics(plan)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Latest evaluation")
    def latest(self, criterion: ExitCriterion) -> str:
        if criterion.pk is None:
            return "–"
        evaluation = support_services.latest_evaluation(criterion)
        return "Not yet evaluated" if evaluation is None else evaluation.summary


@admin.register(SupportPlan)
class SupportPlanAdmin(ReasonedAdmin):
    never = {
        **ReasonedAdmin.never,
        "add": "Support plans are proposed from a published league table for the trusts it "
        "places in segment 4 or 5, never typed in: decide on the proposals in this list.",
    }
    decide_permission = "interventions.decide_supportplan"
    list_display = [
        "trust",
        "level_short",
        "status_tag",
        "triggered_by",
        "regulator_lead",
        "open_actions",
        "overdue_actions",
        "review",
        "is_public",
    ]
    list_filter = [
        "status",
        "level",
        "escalation",
        PlanReviewFilter,
        ExitCriteriaFilter,
        OverdueActionsFilter,
        "is_public",
        ("trust__region", admin.RelatedOnlyFieldListFilter),
        ("trust__peer_group", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = [
        "trust",
        "regulator_lead",
        "triggered_by__quarter",
        "triggered_by__peer_group",
    ]
    search_fields = ["trust__ods_code", "trust__name"]
    fields = [
        "trust",
        "level",
        "triggered_by",
        "status",
        "status_reason",
        "status_changed_by",
        "status_changed_at",
        "escalation",
        "escalation_reason",
        "review_date",
        "objectives",
        "regulator_lead",
        "trust_lead_name",
        "trust_lead_email",
        "trust_lead_user",
        "is_public",
        "change_reason",
    ]
    readonly_fields = [
        "trust",
        "level",
        "triggered_by",
        "status",
        "status_reason",
        "status_changed_by",
        "status_changed_at",
        "escalation",
        "escalation_reason",
        "is_public",
    ]
    raw_id_fields = ["trust_lead_user"]
    inlines = [SupportActionInline, ExitCriterionInline]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "regulator_lead":
            kwargs["queryset"] = regulators()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    actions = [
        reason_action(support_services.confirm_plan, "Confirm"),
        reason_action(support_services.decline_plan, "Decline"),
        reason_action(support_services.close_plan, "Close, exit criteria met"),
        reason_action(support_services.confirm_escalation, "Escalate to intensive support"),
        reason_action(support_services.decline_escalation, "Decline escalation"),
        reason_action(
            lambda plan, user, reason: support_services.set_plan_public(plan, user, True, reason),
            "Make public",
        ),
        reason_action(
            lambda plan, user, reason: support_services.set_plan_public(plan, user, False, reason),
            "Make private",
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        today = timezone.localdate()
        finished = SupportAction.FINISHED_STATUSES
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_action_count=Count("actions", filter=~Q(actions__status__in=finished)),
                overdue_action_count=Count(
                    "actions",
                    filter=~Q(actions__status__in=finished) & Q(actions__due_date__lt=today),
                ),
            )
        )

    @admin.display(description="Level", ordering="level")
    def level_short(self, plan: SupportPlan) -> str:
        return "Intensive" if plan.level == SupportPlan.Level.INTENSIVE else "Targeted"

    @admin.display(description="Status", ordering="status")
    def status_tag(self, plan: SupportPlan) -> SafeString:
        shown = tag(plan.status, plan.get_status_display())
        if plan.escalation == SupportPlan.Escalation.PROPOSED:
            shown = format_html("{} {}", shown, tag("amber", "Escalation proposed"))
        return shown

    @admin.display(description="Review", ordering="review_date")
    def review(self, plan: SupportPlan) -> SafeString | str:
        return review_date(plan.review_date, plan.status == SupportPlan.Status.ACTIVE)

    @admin.display(description="Open actions", ordering="open_action_count")
    def open_actions(self, plan: SupportPlan) -> int:
        return plan.open_action_count

    @admin.display(description="Overdue", ordering="overdue_action_count")
    def overdue_actions(self, plan: SupportPlan) -> int:
        return plan.overdue_action_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # plans are proposed from a published table, never typed in


class ActionUpdateInline(admin.TabularInline):
    """The action's progress so far, as a dated record: read, never rewritten.

    Evidence files are linked through the trust area's permission-checked download (the media
    storage is never served), and a file whose stored copy has gone says so instead of
    linking to an error.
    """

    model = ActionUpdate
    extra = 0
    fields = ["date", "text", "author", "evidence", "evidence_link", "created_at"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "progress updates"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # added below, in NewActionUpdateInline

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # updates are a dated record: add, never rewrite

    @admin.display(description="Evidence file")
    def evidence(self, update: ActionUpdate) -> SafeString | str:
        if not update.evidence_file:
            return "–"
        if update.evidence_size is None:
            return format_html("{} (file no longer available)", update.evidence_name)
        return format_html(
            '<a href="{}" download>{}</a>',
            reverse("trust_area:evidence", args=[update.pk]),
            update.evidence_name,
        )


class NewActionUpdateForm(ProgressUpdateChecks, forms.ModelForm):
    """The trust area's checks on a new update (interventions.evidence), for regulators too."""

    evidence_link = evidence_link_field()

    class Meta:
        model = ActionUpdate
        fields = ["date", "text", "evidence_file", "evidence_link"]


class NewActionUpdateInline(admin.TabularInline):
    """Where a regulator adds a progress update; existing ones are listed above."""

    model = ActionUpdate
    form = NewActionUpdateForm
    extra = 0
    fields = ["date", "text", "evidence_file", "evidence_link"]
    can_delete = False
    verbose_name = "new progress update"
    verbose_name_plural = "add a progress update"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).none()


@admin.register(SupportAction)
class SupportActionAdmin(ReasonedAdmin):
    never = {
        **ReasonedAdmin.never,
        "add": "Actions are added on their support plan's page, under “Actions”.",
    }
    decide_permission = "interventions.decide_supportplan"
    list_display = [
        "description_short",
        "trust",
        "owner_name",
        "due",
        "status",
        "rag_tag",
        "proposed",
    ]
    list_filter = [
        "status",
        "rag",
        "proposed_complete",
        AwaitingCompletionFilter,
        OverdueActionFilter,
        "plan__level",
        ("plan__trust__region", admin.RelatedOnlyFieldListFilter),
        ("plan__trust__peer_group", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["plan__trust"]
    search_fields = ["description", "owner_name", "plan__trust__ods_code", "plan__trust__name"]
    readonly_fields = ["plan", "proposed_complete", "proposed_complete_by", "proposed_complete_at"]
    fields = [
        "plan",
        "description",
        "owner_name",
        "owner_email",
        "due_date",
        "status",
        "rag",
        "proposed_complete",
        "proposed_complete_by",
        "proposed_complete_at",
        "change_reason",
    ]
    inlines = [ActionUpdateInline, NewActionUpdateInline]
    actions = [
        reason_action(support_services.confirm_action_complete, "Confirm complete"),
        reason_action(support_services.reject_action_complete, "Reject completion"),
    ]

    @admin.display(description="Action")
    def description_short(self, action: SupportAction) -> str:
        return Truncator(action.description).chars(90)

    @admin.display(description="Trust", ordering="plan__trust__ods_code")
    def trust(self, action: SupportAction) -> SafeString:
        trust = action.plan.trust
        return format_html('<abbr title="{}">{}</abbr>', trust.name, trust.ods_code)

    @admin.display(description="Due", ordering="due_date")
    def due(self, action: SupportAction) -> SafeString:
        if action.is_overdue(timezone.localdate()):
            return format_html(
                "{} {}", date_format(action.due_date, "j M Y"), tag("red", "Overdue")
            )
        return format_html("{}", date_format(action.due_date, "j M Y"))

    @admin.display(description="RAG", ordering="rag")
    def rag_tag(self, action: SupportAction) -> SafeString:
        return tag(action.rag, action.get_rag_display())

    @admin.display(description="Proposed complete", ordering="proposed_complete")
    def proposed(self, action: SupportAction) -> SafeString | str:
        if action.proposed_complete and action.status not in SupportAction.FINISHED_STATUSES:
            return tag("proposed", "Awaiting decision")
        return ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # added inline on their plan


@admin.register(CriterionEvaluation)
class CriterionEvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    read_only_reason = (
        "Whether an exit criterion was met is worked out from each published release, with the "
        "figures that decided it, and never edited: change the criterion on its plan instead."
    )
    list_display = ["criterion", "release", "met", "summary", "evaluated_at"]
    list_filter = ["met", "release__quarter", "release__peer_group"]
    list_select_related = [
        "criterion__plan__trust",
        "criterion__metric",
        "release__quarter",
        "release__peer_group",
    ]
    readonly_fields = ["criterion", "release", "met", "figures", "summary", "evaluated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .filter(criterion__plan__in=SupportPlan.objects.visible_to(request.user))
        )
