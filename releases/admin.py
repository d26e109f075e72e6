"""The regulators' admin for releases.

Every state change goes through `releases.services.lifecycle`: the buttons on a release's
page, the actions on the release list and the command line call the same functions, which
check the user's right on the server; the admin only decides what to offer. A release past
draft is shown read-only, its results are always read-only, and its history cannot be reverted.
"""

from decimal import Decimal
from typing import Any
from uuid import uuid4

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from adminkit.actions import CONFIRMED, confirm_with_reason
from adminkit.history import HistoryAdmin
from adminkit.readonly import ReadOnlyAdminMixin
from metrics.admin_display import tag
from metrics.models import Domain, DomainThresholds, check_increasing
from releases.models import (
    DOMAIN_FIXED,
    DOMAIN_QUARTILES,
    MetricPeerStatistics,
    MetricResult,
    RefusedTransition,
    Release,
    ReleaseTransition,
    TrustResult,
)
from releases.review import review_release
from releases.selectors import release_domains, thresholds_by_domain
from releases.services import computation, lifecycle
from releases.services.computation import (
    apply_framework_domain_thresholds,
    domain_threshold_entry,
)
from releases.tasks import enqueue_compute

Action = ReleaseTransition.Action
COMPUTING = (Release.Computation.QUEUED, Release.Computation.RUNNING)

IDENTITY_FIELDS = ["quarter", "peer_group", "framework"]
PARAMETER_FIELDS = [
    "threshold_method",
    "t1",
    "t2",
    "t3",
    "replicates",
    "seed",
    "use_supplied_scores",
]
COMPUTATION_FIELDS = [
    "computation",
    "progress_display",
    "failure_reason",
    "computed_at",
    "computation_seconds",
    "input_checksum",
]
GOVERNANCE_FIELDS = [
    "status",
    "revision",
    "supersedes",
    "prepared_by",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "scheduled_for",
    "published_at",
    "withdrawal_reason",
]


# The list actions that are lifecycle transitions: name on the list → the transition.
LIST_TRANSITIONS = {
    "submit_for_approval": Action.SUBMIT,
    "approve": Action.APPROVE,
    "return_for_changes": Action.RETURN,
    "schedule_publication": Action.SCHEDULE,
    "publish_now": Action.PUBLISH,
    "withdraw": Action.WITHDRAW,
}


def posted_action(request: HttpRequest) -> str:
    """The list action a POST asks for: of the forms above and below the list, the one whose
    button was pressed ("index"), as Django's own response_action reads it."""
    names = request.POST.getlist("action")
    try:
        index = int(request.POST.get("index", 0))
    except ValueError:
        index = 0
    return names[index] if 0 <= index < len(names) else ""


def request_id(request: HttpRequest) -> str:
    """The proxy's request id when it sends one, so audit rows can be matched to its logs."""
    return request.headers.get("X-Request-ID", "")[:64] or uuid4().hex


class TransitionForm(forms.Form):
    """The confirmation of one transition: a reason, and a time when scheduling."""

    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="Recorded in the audit trail.",
    )
    at = forms.DateTimeField(
        label="Publication time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Local time (UK). The release is published at the first scheduler run "
        "after this time.",
    )

    def __init__(self, *args: Any, transition: lifecycle.Transition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transition = transition
        if transition.needs_reason:
            self.fields["reason"].required = True
            self.fields["reason"].help_text = "Required. Recorded in the audit trail" + (
                " and sent to whoever submitted the release."
                if transition.action == Action.RETURN
                else (
                    " and shown to the public."
                    if transition.action in (Action.WITHDRAW, Action.START_CORRECTION)
                    else "."
                )
            )
        if transition.needs_time:
            self.fields["at"].required = True
            del self.fields["reason"]
        else:
            del self.fields["at"]


def _outcome(release: Release) -> str:
    return f"{release}: {release.get_status_display().lower()}."


def _perform(
    transition: lifecycle.Transition,
    release: Release,
    request: HttpRequest,
    data: dict[str, Any],
    via: str,
) -> Release:
    return lifecycle.perform(
        transition.action,
        release,
        request.user,
        reason=data.get("reason") or "",
        at=data.get("at"),
        request_id=request_id(request),
        via=via,
    )


DOMAIN_FIELD_PREFIX = "domain__"


def domain_field_names(domains: list[Domain]) -> list[tuple[Domain, str, list[str]]]:
    """(domain, its method field, its t1/t2/t3 fields) for the release form's domain rows."""
    return [
        (
            domain,
            f"{DOMAIN_FIELD_PREFIX}{domain.slug}__method",
            [f"{DOMAIN_FIELD_PREFIX}{domain.slug}__{name}" for name in ("t1", "t2", "t3")],
        )
        for domain in domains
    ]


class ReleaseForm(forms.ModelForm):
    """The release's parameters; each domain of its framework gets a method and three
    thresholds, kept in Release.domain_thresholds (and so in the release's history)."""

    class Meta:
        model = Release
        # Never status or who did what: those change only through the lifecycle service.
        fields = [*IDENTITY_FIELDS, *PARAMETER_FIELDS, "correction_note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domain_rows = domain_field_names(release_domains(self.instance))
        for domain, method_name, threshold_names in self.domain_rows:
            entry = self.instance.domain_thresholds.get(domain.slug, {})
            method = entry.get("method", DOMAIN_QUARTILES)
            self.fields[method_name] = forms.ChoiceField(
                label=f"{domain.name}: method",
                choices=DomainThresholds.Method.choices,
                initial=method,
                help_text=f"{domain.score_code or domain.slug}. Fixed: segment 1 up to t1, 2 up "
                "to t2, 3 up to t3, 4 above, on the 1.00 (best) to 4.00 scale.",
            )
            for position, name in enumerate(threshold_names, start=1):
                self.fields[name] = forms.DecimalField(
                    label=f"{domain.name}: t{position}" if position == 1 else f"t{position}",
                    required=False,
                    max_digits=6,
                    decimal_places=4,
                    min_value=Decimal(1),
                    max_value=Decimal(4),
                    initial=entry.get(f"t{position}") if method == DOMAIN_FIXED else None,
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance._state.adding:
            quarter, peer_group = cleaned.get("quarter"), cleaned.get("peer_group")
            existing = (
                Release.objects.filter(quarter=quarter, peer_group=peer_group)
                .order_by("-revision")
                .first()
            )
            if existing is not None:
                raise forms.ValidationError(
                    f"{existing} already exists ({existing.get_status_display().lower()}). "
                    "Recompute that draft, or start a correction of a published release."
                )
        if cleaned.get("threshold_method") == Release.ThresholdMethod.FIXED:
            values = [cleaned.get(name) for name in ("t1", "t2", "t3")]
            if any(v is None for v in values):
                raise forms.ValidationError("Fixed thresholds need t1, t2 and t3.")
            if not values[0] < values[1] < values[2]:
                raise forms.ValidationError("Thresholds must increase: t1 < t2 < t3.")
        self._clean_domain_thresholds(cleaned)
        return cleaned

    def _clean_domain_thresholds(self, cleaned: dict[str, Any]) -> None:
        entries = {}
        for domain, method_name, threshold_names in self.domain_rows:
            method = cleaned.get(method_name)
            values = [cleaned.get(name) for name in threshold_names]
            if method == DOMAIN_FIXED:
                try:
                    check_increasing(values)
                except forms.ValidationError as error:
                    self.add_error(threshold_names[0], f"{domain.name}: {error.messages[0]}")
                    continue
            entries[domain.slug] = domain_threshold_entry(method or DOMAIN_QUARTILES, *values)
        if self.domain_rows:
            self.instance.domain_thresholds = entries

    @property
    def domain_fields_changed(self) -> bool:
        return any(name.startswith(DOMAIN_FIELD_PREFIX) for name in self.changed_data)


def parameter_changes(form: ReleaseForm) -> list[str]:
    """What an edit changed among the release's parameters, as "label: before → after"."""
    changes = []
    for name in form.changed_data:
        if name not in PARAMETER_FIELDS and not name.startswith(DOMAIN_FIELD_PREFIX):
            continue
        field = form.fields[name]
        before = form.get_initial_for_field(field, name)
        after = form.cleaned_data.get(name)
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            labels = dict(field.choices)
            before, after = labels.get(before, before), labels.get(after, after)
        shown = [("–" if value in (None, "") else str(value)) for value in (before, after)]
        changes.append(f"{field.label or name}: {shown[0]} → {shown[1]}")
    return changes


class TrustResultInline(ReadOnlyAdminMixin, admin.TabularInline):
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrustResult]:
        return super().get_queryset(request).select_related("trust")


class ReleaseTransitionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The audit trail, on the release's own page."""

    model = ReleaseTransition
    fk_name = "release"
    extra = 0
    can_delete = False
    verbose_name = "audit entry"
    verbose_name_plural = "audit trail"
    fields = ["at", "action", "from_status", "to_status", "user", "reason", "request_id"]
    readonly_fields = fields
    ordering = ["at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReleaseTransition]:
        return super().get_queryset(request).select_related("user")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may see a release may see how it got there.
        return request.user.has_perm("releases.view_release")


class RefusedTransitionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Attempts the lifecycle refused, beside the audit trail: who tried what, when, and why not."""

    model = RefusedTransition
    extra = 0
    can_delete = False
    verbose_name = "refused attempt"
    verbose_name_plural = "refused attempts"
    fields = ["at", "action", "status", "user", "why", "via"]
    readonly_fields = fields
    ordering = ["at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RefusedTransition]:
        return super().get_queryset(request).select_related("user")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("releases.view_release")


@admin.register(Release)
class ReleaseAdmin(HistoryAdmin):
    form = ReleaseForm
    change_form_template = "admin/releases/release/change_form.html"
    list_display = [
        "__str__",
        "status_tag",
        "progress_display",
        "publication",
        "submitted_by",
        "approved_by",
    ]
    list_filter = ["status", "computation", "peer_group", "quarter"]
    list_select_related = ["quarter", "peer_group", "framework", "submitted_by", "approved_by"]
    inlines = [ReleaseTransitionInline, RefusedTransitionInline, TrustResultInline]
    actions = [
        "submit_for_approval",
        "approve",
        "return_for_changes",
        "schedule_publication",
        "publish_now",
        "withdraw",
        "recompute",
    ]

    # Forms and permissions -----------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Release | None = None) -> list:
        if obj is None:
            return [
                (None, {"fields": IDENTITY_FIELDS}),
                ("Parameters", {"fields": PARAMETER_FIELDS}),
            ]
        governance = GOVERNANCE_FIELDS + (["correction_note"] if obj.is_correction else [])
        if obj.status == Release.Status.DRAFT and self.has_change_permission(request, obj):
            # One line per domain: its method, then t1, t2 and t3 side by side.
            domain_rows = [
                line
                for _, method, thresholds in domain_field_names(release_domains(obj))
                for line in (method, tuple(thresholds))
            ]
        else:
            domain_rows = ["domain_thresholds_display"]
        return [
            (None, {"fields": IDENTITY_FIELDS}),
            ("Parameters", {"fields": PARAMETER_FIELDS}),
            (
                "Domain thresholds",
                {
                    "fields": domain_rows,
                    "description": "Three thresholds per domain place each domain score in "
                    "segments 1 to 4 (METHODOLOGY 4.6). Quartiles: of the peer group's domain "
                    "scores, filled in when the release is computed.",
                },
            ),
            ("Computation", {"fields": COMPUTATION_FIELDS}),
            ("Governance", {"fields": governance}),
        ]

    def get_form(
        self, request: HttpRequest, obj: Release | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        # The domain rows are made by the form itself, from the release's framework.
        fields = kwargs.get("fields")
        if fields is None:
            fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [
            name
            for name in fields
            if not name.startswith(DOMAIN_FIELD_PREFIX) and name != "domain_thresholds_display"
        ]
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Release | None = None) -> list:
        if obj is None:
            return []
        fixed = (
            IDENTITY_FIELDS + COMPUTATION_FIELDS + GOVERNANCE_FIELDS + ["domain_thresholds_display"]
        )
        if obj.status != Release.Status.DRAFT:
            return fixed + PARAMETER_FIELDS + ["correction_note"]
        return fixed

    def has_change_permission(self, request: HttpRequest, obj: Release | None = None) -> bool:
        # Past draft a release is shown, never edited: its state moves only by transitions.
        if obj is not None and obj.status != Release.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Release | None = None) -> bool:
        if obj is not None and (obj.status != Release.Status.DRAFT or obj.transitions.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def refusal_reason(self, request: HttpRequest, action: str, obj: Any = None) -> str:
        if obj is not None and obj.status != Release.Status.DRAFT and action == "change":
            return (
                f"{obj} is {obj.get_status_display().lower()}: a release past draft is never "
                "edited. Its state changes only through its transitions (the buttons on its "
                "page); its numbers change only through a correction, a new revision."
            )
        if obj is not None and action == "delete":
            if obj.status != Release.Status.DRAFT:
                return (
                    f"{obj} is {obj.get_status_display().lower()}, and only a draft that was "
                    "never submitted can be deleted: its audit trail is kept. Withdraw it or "
                    "start a correction instead (the buttons on its page)."
                )
            if obj.transitions.exists():
                return (
                    f"{obj} has an audit trail (it was submitted and returned, or a regulator "
                    "changed its parameters or had it recomputed), and its audit trail is kept: "
                    "change it and submit it instead."
                )
        return super().refusal_reason(request, action, obj)

    def has_change_history_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Reverting to an old version would restore an old status behind the lifecycle's back.
        return False

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied("Releases cannot be reverted; use their transitions.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Deleting many releases at once is never part of the workflow.
        actions.pop("delete_selected", None)
        return actions

    def has_submit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("releases.submit_release")

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("releases.approve_release")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("releases.publish_release")

    def has_withdraw_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("releases.withdraw_release")

    def has_compute_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("releases.compute_release")

    def save_model(self, request: HttpRequest, obj: Release, form: Any, change: bool) -> None:
        changes = parameter_changes(form) if change else []
        if not change:
            apply_framework_domain_thresholds(obj)
        if not change or changes:
            # Whoever sets the parameters prepares the numbers (and so may not approve them).
            obj.prepared_by = request.user
        super().save_model(request, obj, form, change)
        if changes:
            lifecycle.record_preparation(
                obj,
                request.user,
                Action.PREPARE,
                "; ".join(changes),
                details={"changed": sorted(form.changed_data)},
                request_id=request_id(request),
            )
        if not change or changes:
            # The results must follow the parameters; the worker starts after the commit.
            enqueue_compute(obj, force=True)

    # Display -------------------------------------------------------------------------------

    @admin.display(description="Domain thresholds")
    def domain_thresholds_display(self, release: Release) -> str:
        return (
            format_html_join(
                "",
                "<div>{} ({}): {} <em>{}</em></div>",
                (
                    (
                        used.domain.name,
                        used.domain.score_code or used.domain.slug,
                        " / ".join(map(str, used.values)) if used.values else "taken when computed",
                        used.method_label,
                    )
                    for used in thresholds_by_domain(release, release_domains(release))
                ),
            )
            or "-"
        )

    @admin.display(description="Status", ordering="status")
    def status_tag(self, release: Release) -> SafeString:
        return tag(release.status, release.get_status_display())

    @admin.display(description="Publication", ordering="published_at")
    def publication(self, release: Release) -> str:
        if release.published_at:
            return f"Published {date_format(timezone.localtime(release.published_at), 'j M Y H:i')}"
        if release.scheduled_for:
            return (
                f"Scheduled {date_format(timezone.localtime(release.scheduled_for), 'j M Y H:i')}"
            )
        return "–"

    @admin.display(description="Computation")
    def progress_display(self, release: Release) -> str:
        if release.computation in COMPUTING:
            return format_html(
                '<progress max="1" value="{}"></progress> {}% {}',
                release.progress,
                round(release.progress * 100),
                release.progress_message,
            )
        if release.computation == Release.Computation.FAILED:
            return format_html("<strong>Failed</strong>: {}", release.failure_reason[:120])
        return release.get_computation_display()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        release = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if release is not None:
            extra_context.update(
                transitions=lifecycle.available_transitions(release, request.user),
                can_recompute=release.status == Release.Status.DRAFT
                and self.has_compute_permission(request),
                computing=release.computation in COMPUTING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # Extra pages ---------------------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/transition/<slug:action>/",
                view(self.transition_view),
                name="releases_release_transition",
            ),
            path(
                "<path:object_id>/review/",
                view(self.review_view),
                name="releases_release_review",
            ),
            path(
                "<path:object_id>/recompute/",
                view(self.recompute_view),
                name="releases_release_recompute",
            ),
            path(
                "<path:object_id>/progress/",
                view(self.progress_view),
                name="releases_release_progress",
            ),
            *super().get_urls(),
        ]

    def _release_or_404(self, request: HttpRequest, object_id: str) -> Release:
        release = self.get_object(request, unquote(object_id))
        if release is None:
            raise Http404("No such release.")
        if not self.has_view_or_change_permission(request, release):
            raise PermissionDenied
        return release

    def _context(self, request: HttpRequest, release: Release, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "release": release,
            "original": release,
            **extra,
        }

    def transition_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """Confirm one transition on one release (GET), and perform it (POST)."""
        release = self._release_or_404(request, object_id)
        transition = lifecycle.TRANSITIONS.get(action)
        if transition is None:
            raise Http404(f"Unknown transition {action!r}")
        refusal = lifecycle.why_not(action, release, request.user)
        if refusal is not None and request.method != "POST":
            # Never a form this user cannot use: say why instead (a POST goes on to the
            # dispatcher, which refuses it and records the attempt).
            context = self._context(
                request,
                release,
                title=f"{transition.label}: {release}",
                transition=transition,
                refusal=refusal,
            )
            return TemplateResponse(
                request, "admin/releases/release/transition.html", context, status=403
            )
        form = TransitionForm(
            request.POST if request.method == "POST" else None, transition=transition
        )
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                result = _perform(
                    transition, release, request, form.cleaned_data, "admin release page"
                )
            except lifecycle.TransitionRefused as refusal:
                form.add_error(None, refusal.message)
                status = 409
            else:
                self.message_user(request, _outcome(result), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:releases_release_change", args=[result.pk])
                )
        context = self._context(
            request,
            release,
            title=f"{transition.label}: {release}",
            transition=transition,
            form=form,
        )
        return TemplateResponse(
            request, "admin/releases/release/transition.html", context, status=status
        )

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        release = self._release_or_404(request, object_id)
        review = review_release(release)
        transitions = lifecycle.available_transitions(release, request.user)
        if review.inputs_changed:
            # Numbers the data no longer gives are never offered for sign-off.
            transitions = [t for t in transitions if t.action not in lifecycle.READY_CHECKED]
        context = self._context(
            request,
            release,
            title=f"Review {release}",
            review=review,
            transitions=transitions,
        )
        return TemplateResponse(request, "admin/releases/release/review.html", context)

    def recompute_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        release = self._release_or_404(request, object_id)
        if not self.has_compute_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._recompute([release], request)
            return HttpResponseRedirect(reverse("admin:releases_release_change", args=[release.pk]))
        context = self._context(request, release, title=f"Recompute {release}")
        return TemplateResponse(request, "admin/releases/release/recompute.html", context)

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        release = self._release_or_404(request, object_id)
        # A regulator watching a computation whose worker died sees it fail at once, whether
        # or not the beat is running.
        if computation.fail_stalled([release.pk]):
            release.refresh_from_db()
        return JsonResponse(
            {
                "computation": release.computation,
                "computing": release.computation in COMPUTING,
                "progress": release.progress,
                "message": release.progress_message,
                "failure": release.failure_reason,
            }
        )

    # Actions on the release list -------------------------------------------------------------

    @admin.action(description="Submit for approval", permissions=["submit"])
    def submit_for_approval(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._transition_action(request, queryset, Action.SUBMIT, "submit_for_approval")

    @admin.action(description="Approve", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._transition_action(request, queryset, Action.APPROVE, "approve")

    @admin.action(description="Return for changes", permissions=["approve"])
    def return_for_changes(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._transition_action(request, queryset, Action.RETURN, "return_for_changes")

    @admin.action(description="Schedule publication", permissions=["publish"])
    def schedule_publication(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._transition_action(request, queryset, Action.SCHEDULE, "schedule_publication")

    @admin.action(description="Publish now", permissions=["publish"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._transition_action(request, queryset, Action.PUBLISH, "publish_now")

    @admin.action(description="Withdraw", permissions=["withdraw"])
    def withdraw(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._transition_action(request, queryset, Action.WITHDRAW, "withdraw")

    @admin.action(description="Recompute", permissions=["compute"])
    def recompute(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._recompute(list(queryset), request)

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        # Django answers a list action the user's role is not offered with "No action
        # selected." and nothing else; a transition tried that way is refused and kept like any
        # other refused attempt, whatever the path (README, "How a quarter goes").
        name = posted_action(request)
        if name in LIST_TRANSITIONS and name not in self.get_actions(request):
            return self._refuse_unoffered(request, queryset, LIST_TRANSITIONS[name])
        return super().response_action(request, queryset)

    def _refuse_unoffered(
        self, request: HttpRequest, queryset: QuerySet, action: str
    ) -> HttpResponseRedirect:
        transition = lifecycle.TRANSITIONS[action]
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        if request.POST.get("select_across") not in ("1", "True", "on"):
            queryset = queryset.filter(pk__in=selected)
        identifier = request_id(request)
        for release in queryset.select_related("quarter", "peer_group"):
            why = lifecycle.why_not(action, release, request.user) or (
                f"You do not have the right to {transition.right}: that needs the "
                f"{transition.role} role."
            )
            lifecycle.record_refusal(
                action, release, request.user, why, "admin list action", identifier
            )
            self.message_user(request, f"{release}: {why}", messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def _transition_action(
        self, request: HttpRequest, queryset: QuerySet, action: str, name: str
    ) -> TemplateResponse | None:
        """Ask for confirmation (and a reason or time), then apply to each selected release."""
        transition = lifecycle.TRANSITIONS[action]
        confirmed = CONFIRMED in request.POST
        return confirm_with_reason(
            self,
            request,
            queryset.select_related("quarter", "peer_group"),
            verb=transition.label,
            form=TransitionForm(request.POST if confirmed else None, transition=transition),
            apply=lambda release, data: _outcome(
                _perform(transition, release, request, data, "admin list action")
            ),
            refusals=(lifecycle.TransitionRefused,),
            intro=f"{transition.label} these releases? Each is checked on its own; any that "
            "cannot be changed is reported with the reason.",
        )

    def _recompute(self, releases: list[Release], request: HttpRequest) -> None:
        for release in releases:
            if release.status != Release.Status.DRAFT:
                self.message_user(
                    request,
                    f"{release} is {release.get_status_display().lower()}: only a draft can be "
                    "recomputed. Corrections are made in a new revision.",
                    messages.ERROR,
                )
                continue
            with transaction.atomic():
                lifecycle.record_preparation(
                    release,
                    request.user,
                    Action.RECOMPUTE,
                    "Recomputation asked for in the admin",
                    request_id=request_id(request),
                )
                enqueue_compute(release, force=True)
            self.message_user(request, f"{release}: computation queued.", messages.SUCCESS)


class ResultAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Results are written only by the computation: never added, changed or deleted here."""

    read_only_reason = (
        "Results are written only by the computation, never by hand. To change a draft's "
        "results, change its data or parameters and recompute it. A published release's "
        "results change only through a correction (“Start a correction” on its page)."
    )


@admin.register(TrustResult)
class TrustResultAdmin(ResultAdmin):
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
    list_filter = ["release__status", "release__quarter", "release__peer_group", "segment"]
    list_select_related = ["release__quarter", "release__peer_group", "trust"]
    search_fields = ["trust__ods_code", "trust__name"]


@admin.register(MetricResult)
class MetricResultAdmin(ResultAdmin):
    list_display = ["release", "trust", "metric", "value", "score"]
    list_filter = ["release__status", "release__quarter", "release__peer_group", "metric"]
    list_select_related = ["release__quarter", "release__peer_group", "trust", "metric"]
    search_fields = ["trust__ods_code", "metric__code"]


@admin.register(MetricPeerStatistics)
class MetricPeerStatisticsAdmin(ResultAdmin):
    list_display = [
        "release",
        "metric",
        "trusts_reporting",
        "lower_quartile",
        "median",
        "upper_quartile",
    ]
    list_select_related = ["release__quarter", "release__peer_group", "metric"]


@admin.register(ReleaseTransition)
class ReleaseTransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every transition of every release: who, when, from what to what, and why."""

    read_only_reason = "An audit entry is never changed or deleted once written."

    list_display = ["at", "release", "action", "from_status", "to_status", "user", "reason"]
    list_filter = ["action", "release__peer_group", "release__quarter"]
    list_select_related = ["release__quarter", "release__peer_group", "user"]
    search_fields = ["reason", "user__username", "request_id"]
    date_hierarchy = "at"
    fields = [
        "release",
        "at",
        "action",
        "from_status",
        "to_status",
        "user",
        "reason",
        "details",
        "request_id",
    ]
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("releases.view_release")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(RefusedTransition)
class RefusedTransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every refused attempt to move a release, whatever the path it came by."""

    read_only_reason = "An audit entry is never changed or deleted once written."

    list_display = ["at", "release", "action", "status", "user", "why", "via"]
    list_filter = ["action", "via", "release__peer_group", "release__quarter"]
    list_select_related = ["release__quarter", "release__peer_group", "user"]
    search_fields = ["why", "user__username", "request_id"]
    date_hierarchy = "at"
    fields = ["release", "at", "action", "status", "user", "why", "via", "request_id"]
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("releases.view_release")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)
