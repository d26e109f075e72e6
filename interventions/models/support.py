import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from interventions.models.access import BoardScopedQuerySet
from interventions.models.dates import planning_date_error
from trusts.models import Trust


class SupportPlanQuerySet(BoardScopedQuerySet):
    def open(self) -> "SupportPlanQuerySet":
        return self.filter(status__in=SupportPlan.OPEN_STATUSES)

    def review_passed(self, today: datetime.date) -> "SupportPlanQuerySet":
        return self.filter(status=SupportPlan.Status.ACTIVE, review_date__lt=today)

    def with_overdue_actions(self, today: datetime.date) -> "SupportPlanQuerySet":
        return self.filter(actions__in=SupportAction.objects.overdue(today).values("pk")).distinct()


class SupportPlan(models.Model):
    """Targeted (segment 4) or intensive (segment 5, Recovery Support Programme) support."""

    class Level(models.TextChoices):
        TARGETED = "targeted", "Targeted support"
        INTENSIVE = "intensive", "Intensive support (Recovery Support Programme)"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"
        DECLINED = "declined", "Declined"

    class Escalation(models.TextChoices):
        NONE = "", "None"
        PROPOSED = "proposed", "Escalation to intensive support proposed"
        DECLINED = "declined", "Escalation declined"

    OPEN_STATUSES = (Status.PROPOSED, Status.ACTIVE)
    # How long a confirmed plan runs before the regulator reviews it, unless they set a date.
    DEFAULT_REVIEW_AFTER = datetime.timedelta(days=182)
    BOARD_VISIBLE_STATUSES = (Status.ACTIVE, Status.CLOSED)
    LEVEL_FOR_SEGMENT = {4: Level.TARGETED, 5: Level.INTENSIVE}

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="support_plans")
    level = models.CharField(max_length=10, choices=Level.choices)
    triggered_by = models.ForeignKey(
        "releases.Release",
        on_delete=models.PROTECT,
        related_name="support_plans",
        help_text="The published release that placed the trust in segment 4 or 5.",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PROPOSED)
    objectives = models.TextField(blank=True)
    regulator_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_support_plans",
        help_text="Named lead at the regulator; told of overdue actions.",
    )
    trust_lead_name = models.CharField(max_length=200, blank=True)
    trust_lead_email = models.EmailField(blank=True)
    trust_lead_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trust_led_support_plans",
    )
    review_date = models.DateField(
        null=True,
        blank=True,
        help_text="When the regulator reviews the plan; a trust still in segment 4 or 5 after "
        "it is proposed an escalation to intensive support.",
    )
    escalation = models.CharField(
        max_length=8, choices=Escalation.choices, default=Escalation.NONE, blank=True
    )
    escalation_release = models.ForeignKey(
        "releases.Release",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The published release on which escalation was last proposed.",
    )
    escalation_reason = models.TextField(blank=True)
    is_public = models.BooleanField(
        default=False, help_text="The support level is shown on the public trust page while active."
    )
    status_reason = models.TextField(blank=True, help_text="Why the status last changed.")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = SupportPlanQuerySet.as_manager()

    class Meta:
        ordering = ["trust__name", "-created_at"]
        constraints = [
            # One open plan per trust: a trust staying in segment 4 keeps its plan, and two
            # concurrent publications cannot propose a second.
            models.UniqueConstraint(
                fields=["trust"],
                condition=Q(status__in=["proposed", "active"]),
                name="one_open_support_plan_per_trust",
            )
        ]
        permissions = [
            ("decide_supportplan", "Can confirm, decline and close support plans and actions")
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} for {self.trust.ods_code} ({self.get_status_display()})"

    def clean(self) -> None:
        if self.review_date is not None and self.triggered_by_id is not None:
            problem = planning_date_error(
                self.review_date,
                not_before=self.triggered_by.quarter.start_date,
                what="Review date",
            )
            if problem:
                raise ValidationError({"review_date": problem})


class SupportActionQuerySet(models.QuerySet["SupportAction"]):
    def open(self) -> "SupportActionQuerySet":
        return self.exclude(status__in=SupportAction.FINISHED_STATUSES)

    def awaiting_completion(self) -> "SupportActionQuerySet":
        """Proposed complete by the trust, not yet confirmed or rejected by a regulator."""
        return self.open().filter(proposed_complete=True)

    def overdue(self, today: datetime.date) -> "SupportActionQuerySet":
        return self.open().filter(due_date__lt=today)

    def due_for_reminder(self, today: datetime.date) -> "SupportActionQuerySet":
        """Open actions of active plans, overdue or due within the reminder window."""
        return self.open().filter(
            plan__status=SupportPlan.Status.ACTIVE,
            due_date__lte=today + datetime.timedelta(days=SupportAction.REMINDER_WINDOW_DAYS),
        )

    def visible_to(self, user: Any) -> "SupportActionQuerySet":
        return self.filter(plan__in=SupportPlan.objects.visible_to(user))


class SupportAction(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"
        CANCELLED = "cancelled", "Cancelled"

    class Rag(models.TextChoices):
        RED = "red", "Red"
        AMBER = "amber", "Amber"
        GREEN = "green", "Green"

    FINISHED_STATUSES = (Status.COMPLETE, Status.CANCELLED)
    REMINDER_WINDOW_DAYS = 7

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner_name = models.CharField(max_length=200)
    owner_email = models.EmailField(help_text="Reminded as the due date approaches.")
    due_date = models.DateField()
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.NOT_STARTED)
    rag = models.CharField("RAG rating", max_length=5, choices=Rag.choices, default=Rag.AMBER)
    proposed_complete = models.BooleanField(
        default=False, help_text="The trust says this is done; a regulator confirms."
    )
    proposed_complete_at = models.DateTimeField(null=True, blank=True)
    proposed_complete_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # The due date the plan's regulator lead was told this action missed: told once per due
    # date, so moving the date and missing it again tells them again, and reruns never do.
    lead_told_overdue_for = models.DateField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["lead_told_overdue_for"])

    objects = SupportActionQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "due_date", "pk"]

    def __str__(self) -> str:
        return self.description[:80]

    def clean(self) -> None:
        if self.due_date is not None and self.plan_id is not None:
            problem = planning_date_error(
                self.due_date,
                not_before=self.plan.triggered_by.quarter.start_date,
                what="Due date",
            )
            if problem:
                raise ValidationError({"due_date": problem})

    def is_overdue(self, today: datetime.date) -> bool:
        return self.status not in self.FINISHED_STATUSES and self.due_date < today

    def closed_to_progress(self) -> str:
        """Why nothing more can be reported on this action, or "" while it is open to it.

        The one rule for every path that adds a progress update (the trust area's form and
        API, the admin): a finished action, or any action of a plan that is not active, is a
        closed record.
        """
        if self.status in self.FINISHED_STATUSES:
            return "This action is already finished."
        if self.plan.status != SupportPlan.Status.ACTIVE:
            return "The plan is not active: its actions can no longer change."
        return ""

    def closed_to_proposal(self) -> str:
        """Why the trust cannot propose this action complete now, or "" if it can."""
        if self.proposed_complete and not self.closed_to_progress():
            return "This action has already been proposed as complete."
        return self.closed_to_progress()


EVIDENCE_EXTENSIONS = [
    "pdf",
    "doc",
    "docx",
    "odt",
    "xls",
    "xlsx",
    "ods",
    "csv",
    "ppt",
    "pptx",
    "txt",
    "png",
    "jpg",
    "jpeg",
]
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
EVIDENCE_TYPE_NAMES = {
    "pdf": "PDF",
    "doc": "Word document",
    "docx": "Word document",
    "odt": "OpenDocument text",
    "xls": "Excel spreadsheet",
    "xlsx": "Excel spreadsheet",
    "ods": "OpenDocument spreadsheet",
    "csv": "CSV",
    "ppt": "PowerPoint presentation",
    "pptx": "PowerPoint presentation",
    "txt": "Text",
    "png": "PNG image",
    "jpg": "JPEG image",
    "jpeg": "JPEG image",
}


def validate_evidence_size(file: File) -> None:
    if file.size is not None and file.size > EVIDENCE_MAX_BYTES:
        raise ValidationError("Evidence files can be at most 20 MB; link to larger ones.")


def evidence_path(update: "ActionUpdate", filename: str) -> str:
    # Grouped by plan so a plan's evidence can be found (and removed) together; the storage is
    # never served directly, only through the trust area's permission-checked view.
    return f"evidence/plan-{update.action.plan_id}/action-{update.action_id}/{filename}"


class ActionUpdate(models.Model):
    """A dated progress note on an action, with evidence attached or linked."""

    action = models.ForeignKey(SupportAction, on_delete=models.CASCADE, related_name="updates")
    date = models.DateField(default=datetime.date.today)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_updates"
    )
    evidence_file = models.FileField(
        upload_to=evidence_path,
        blank=True,
        max_length=300,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS), validate_evidence_size],
    )
    evidence_link = models.URLField(blank=True, max_length=500)
    proposes_complete = models.BooleanField(
        default=False, help_text="The board's note proposing the action complete."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Claimed before the regulator lead is e-mailed about this update, so they hear once.
    lead_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["action", "-date", "-created_at"]

    def __str__(self) -> str:
        return f"{self.date}: {self.text[:60]}"

    def clean(self) -> None:
        # A new update only: the history of a finished action stays as it was.
        if self._state.adding and self.action_id is not None:
            refusal = self.action.closed_to_progress()
            if refusal:
                raise ValidationError(refusal)

    @property
    def evidence_name(self) -> str:
        return self.evidence_file.name.rsplit("/", 1)[-1] if self.evidence_file else ""

    @property
    def evidence_type(self) -> str:
        """What a board member would call the file: "PDF", "Word document", ..."""
        extension = self.evidence_name.rsplit(".", 1)[-1].lower() if self.evidence_file else ""
        return EVIDENCE_TYPE_NAMES.get(extension, extension.upper())

    @property
    def evidence_size(self) -> int | None:
        """Bytes on storage; None when the file has gone missing, rather than a 500."""
        if not self.evidence_file:
            return None
        try:
            return self.evidence_file.size
        except OSError:
            return None


class ExitCriterion(models.Model):
    """A condition, judged on published data, that a plan must meet before it can close."""

    class Kind(models.TextChoices):
        METRIC_SCORE = "metric_score", "Metric score at most"
        SEGMENT = "segment", "Segment at most, for consecutive published quarters"
        AVERAGE = "average", "Average score at most"

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="exit_criteria")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    metric = models.ForeignKey(
        "metrics.Metric",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exit_criteria",
        help_text="For a metric score criterion.",
    )
    threshold = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Highest acceptable score or average (1 is best).",
    )
    max_segment = models.PositiveSmallIntegerField(null=True, blank=True)
    consecutive_quarters = models.PositiveSmallIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "exit criteria"
        ordering = ["plan", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="metric_score", metric__isnull=False, threshold__isnull=False)
                    | Q(kind="segment", max_segment__isnull=False, consecutive_quarters__gte=1)
                    | Q(kind="average", threshold__isnull=False)
                ),
                name="exit_criterion_complete",
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.METRIC_SCORE:
            code = self.metric.code if self.metric_id else "?"
            return f"{code} score at most {_number(self.threshold)}"
        if self.kind == self.Kind.AVERAGE:
            return f"Average score at most {_number(self.threshold)}"
        quarters = self.consecutive_quarters
        span = "one published quarter" if quarters == 1 else f"{quarters} consecutive quarters"
        return f"Segment {self.max_segment} or better for {span}"

    def clean(self) -> None:
        if self.kind == self.Kind.METRIC_SCORE and (
            self.metric_id is None or self.threshold is None
        ):
            raise ValidationError("A metric score criterion needs a metric and a threshold.")
        if self.kind == self.Kind.AVERAGE and self.threshold is None:
            raise ValidationError({"threshold": "An average criterion needs a threshold."})
        if self.kind == self.Kind.SEGMENT and self.max_segment is None:
            raise ValidationError({"max_segment": "A segment criterion needs a segment."})
        if self.metric_id is not None and self.plan_id is not None:
            framework = self.plan.triggered_by.framework
            if not framework.definitions.filter(metric_id=self.metric_id).exists():
                raise ValidationError(
                    {
                        "metric": f"{self.metric} is not a metric of {framework}, which scored "
                        "the table this plan follows."
                    }
                )


def _number(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.normalize():f}"


class CriterionEvaluationQuerySet(models.QuerySet["CriterionEvaluation"]):
    def newest_first(self) -> "CriterionEvaluationQuerySet":
        return self.order_by(
            "-release__quarter__year_start", "-release__quarter__number", "-release__revision"
        )


class CriterionEvaluation(models.Model):
    """Whether a criterion was met in one published release, with the figures that decided it."""

    criterion = models.ForeignKey(
        ExitCriterion, on_delete=models.CASCADE, related_name="evaluations"
    )
    release = models.ForeignKey(
        "releases.Release", on_delete=models.PROTECT, related_name="criterion_evaluations"
    )
    met = models.BooleanField()
    figures = models.JSONField(default=dict)
    summary = models.CharField(max_length=500)
    evaluated_at = models.DateTimeField(auto_now_add=True)

    objects = CriterionEvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["criterion", "-evaluated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "release"], name="one_evaluation_per_release"
            )
        ]

    def __str__(self) -> str:
        return f"{'Met' if self.met else 'Not met'}: {self.summary}"


class ReminderSent(models.Model):
    """Claimed before a reminder is sent, so a second run of the job the same day sends nothing."""

    action = models.ForeignKey(SupportAction, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "day"], name="one_reminder_per_action_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder for action {self.action_id} on {self.day}"
