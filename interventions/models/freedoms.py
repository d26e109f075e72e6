from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from interventions.models.access import BoardScopedQuerySet
from interventions.models.dates import planning_date_error
from trusts.models import Trust


class FreedomType(models.Model):
    """One kind of earned autonomy in the catalogue that regulators maintain."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Proposed to eligible trusts when a release is published."
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name


class FreedomGrantQuerySet(BoardScopedQuerySet):
    def open(self) -> "FreedomGrantQuerySet":
        return self.filter(status__in=FreedomGrant.OPEN_STATUSES)


class FreedomGrant(models.Model):
    """A freedom granted (or proposed) to a trust because of its place in a published table."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        GRANTED = "granted", "Granted"
        UNDER_REVIEW = "under_review", "Under review"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"
        DECLINED = "declined", "Declined"

    OPEN_STATUSES = (Status.PROPOSED, Status.GRANTED, Status.UNDER_REVIEW)
    BOARD_VISIBLE_STATUSES = (Status.GRANTED, Status.UNDER_REVIEW, Status.REVOKED, Status.EXPIRED)

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="freedom_grants")
    freedom_type = models.ForeignKey(FreedomType, on_delete=models.PROTECT, related_name="grants")
    earned_by = models.ForeignKey(
        "releases.Release",
        on_delete=models.PROTECT,
        related_name="freedom_grants",
        help_text="The published release whose results made the trust eligible.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    conditions = models.TextField(blank=True)
    start = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    is_public = models.BooleanField(
        default=False, help_text="Shown on the public trust page while granted."
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
    history = HistoricalRecords()

    objects = FreedomGrantQuerySet.as_manager()

    class Meta:
        ordering = ["trust__name", "freedom_type__display_order"]
        constraints = [
            # A trust holds (or is being considered for) each freedom at most once at a time;
            # this is also what stops two concurrent publications proposing it twice.
            models.UniqueConstraint(
                fields=["trust", "freedom_type"],
                condition=Q(status__in=["proposed", "granted", "under_review"]),
                name="one_open_grant_per_freedom",
            )
        ]
        permissions = [("decide_freedomgrant", "Can confirm, decline, review and revoke freedoms")]

    def __str__(self) -> str:
        return f"{self.freedom_type} for {self.trust.ods_code} ({self.get_status_display()})"

    def clean(self) -> None:
        errors = self.date_errors()
        if errors:
            raise ValidationError(errors)

    def date_errors(self) -> dict[str, str]:
        """Start and review date within the planning window, and the review after the start.

        Checked by the admin's form and by the transitions that set the dates, alike.
        """
        if self.earned_by_id is None:
            return {}
        not_before = self.earned_by.quarter.start_date
        errors = {}
        if self.start is not None and (
            problem := planning_date_error(self.start, not_before=not_before, what="Start")
        ):
            errors["start"] = problem
        if self.review_date is not None:
            if problem := planning_date_error(
                self.review_date, not_before=not_before, what="Review date"
            ):
                errors["review_date"] = problem
            elif self.start is not None and self.review_date <= self.start:
                errors["review_date"] = (
                    f"Review date ({self.review_date:%-d %B %Y}) must be after the start "
                    f"({self.start:%-d %B %Y})."
                )
        return errors
