from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from metrics.models import Framework, Metric, Quarter
from trusts.models import PeerGroup, Trust


class ReleaseQuerySet(models.QuerySet["Release"]):
    def published(self) -> "ReleaseQuerySet":
        """Releases the public may see: published and not superseded or withdrawn."""
        return self.filter(status=Release.Status.PUBLISHED)


class Release(models.Model):
    """One league table: one quarter × one peer group × one framework version, one revision."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for approval"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Superseded by a correction"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Computation(models.TextChoices):
        NOT_COMPUTED = "none", "Not computed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Computing"
        COMPUTED = "computed", "Computed"
        FAILED = "failed", "Failed"

    class ThresholdMethod(models.TextChoices):
        FIXED = "fixed", "Fixed thresholds"
        QUARTILES = "quartiles", "Quartiles of the peer group's averages"

    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="releases")
    peer_group = models.ForeignKey(PeerGroup, on_delete=models.PROTECT, related_name="releases")
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="releases")
    revision = models.PositiveSmallIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)

    # What it was computed with, so it can be recomputed bit for bit.
    threshold_method = models.CharField(
        max_length=10, choices=ThresholdMethod.choices, default=ThresholdMethod.FIXED
    )
    t1 = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    t2 = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    t3 = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    replicates = models.PositiveIntegerField(default=5000)
    seed = models.PositiveIntegerField(default=1)
    use_supplied_scores = models.BooleanField(default=True)
    input_checksum = models.CharField(max_length=64, blank=True)

    computation = models.CharField(
        max_length=8, choices=Computation.choices, default=Computation.NOT_COMPUTED
    )
    progress = models.FloatField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    failure_reason = models.TextField(blank=True)
    computation_started_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    computation_seconds = models.FloatField(null=True, blank=True)

    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    correction_note = models.TextField(blank=True)
    withdrawal_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(
        excluded_fields=["progress", "progress_message", "computation_started_at"]
    )

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter__year_start", "-quarter__number", "peer_group", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarter", "peer_group", "revision"], name="unique_release_revision"
            )
        ]
        permissions = [
            ("compute_release", "Can compute a release"),
            ("submit_release", "Can submit a release for approval"),
            ("approve_release", "Can approve or return a release"),
            ("publish_release", "Can schedule and publish a release"),
            ("withdraw_release", "Can withdraw a published release"),
            ("preview_release", "Can preview an embargoed release of their own trust"),
        ]

    def __str__(self) -> str:
        revision = f" rev {self.revision}" if self.revision > 1 else ""
        return f"{self.peer_group.name} {self.quarter.label}{revision}"

    def get_absolute_url(self) -> str:
        return reverse(
            "public:league-table",
            kwargs={"peer_group": self.peer_group.slug, "quarter": self.quarter.slug},
        )

    @property
    def thresholds(self) -> tuple[float, float, float] | None:
        if self.t1 is None or self.t2 is None or self.t3 is None:
            return None
        return (float(self.t1), float(self.t2), float(self.t3))


class TrustResult(models.Model):
    """One row of a league table."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="trust_results")
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="results")
    average_score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    average_exact = models.FloatField(null=True)
    average_low = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    average_high = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    metrics_scored = models.PositiveSmallIntegerField(default=0)
    unadjusted_segment = models.PositiveSmallIntegerField(null=True)
    in_financial_deficit = models.BooleanField(default=False)
    in_recovery_support = models.BooleanField(default=False)
    segment = models.PositiveSmallIntegerField(null=True)
    rank = models.PositiveSmallIntegerField(null=True)
    rank_low = models.PositiveSmallIntegerField(null=True)
    rank_high = models.PositiveSmallIntegerField(null=True)
    previous_rank = models.PositiveSmallIntegerField(null=True)
    previous_segment = models.PositiveSmallIntegerField(null=True)
    domain_scores = models.JSONField(default=dict, help_text="Domain slug → score.")

    class Meta:
        ordering = ["release", "rank", "trust__name"]
        constraints = [
            models.UniqueConstraint(fields=["release", "trust"], name="unique_trust_result")
        ]

    def __str__(self) -> str:
        return f"{self.trust.ods_code}: segment {self.segment}, rank {self.rank}"

    @property
    def rank_movement(self) -> int | None:
        """Places gained since the previous quarter (positive is up the table)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


class MetricResult(models.Model):
    """One trust's value and score on one metric in a release."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="metric_results")
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="metric_results")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="results")
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    value_text = models.CharField(max_length=100, blank=True)
    score = models.DecimalField(max_digits=6, decimal_places=4, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "trust", "metric"], name="unique_metric_result"
            )
        ]
        indexes = [models.Index(fields=["release", "metric"])]

    def __str__(self) -> str:
        return f"{self.trust_id}/{self.metric_id}: {self.score}"


class MetricPeerStatistics(models.Model):
    """Median and quartiles of a metric across the peer group, shown beside every value."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="peer_statistics")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="peer_statistics")
    trusts_reporting = models.PositiveSmallIntegerField(default=0)
    median = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    lower_quartile = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    upper_quartile = models.DecimalField(max_digits=20, decimal_places=6, null=True)

    class Meta:
        verbose_name_plural = "metric peer statistics"
        constraints = [
            models.UniqueConstraint(fields=["release", "metric"], name="unique_peer_statistics")
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} in {self.release_id}: median {self.median}"
