from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from adminkit.errors import Refused
from metrics.models import Framework, Metric, Quarter
from trusts.models import PeerGroup, Region, Trust


class PublishedDataIsFixed(Refused):
    """A write would change what a release beyond draft shows or was computed from.

    A PermissionDenied, so the admin and the API answer 403 with the reason rather than 500
    when one slips past their own checks; `because_of` lists the releases concerned.
    """


PREVIEW_PERMISSION = "releases.preview_release"


def _may_preview(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(PREVIEW_PERMISSION))


DOMAIN_FIXED = "fixed"
DOMAIN_QUARTILES = "quartiles"


class ReleaseQuerySet(models.QuerySet["Release"]):
    """Who may see which releases: the one place these rules live. The public site, the API,
    the trust area and the admin all ask here."""

    def published(self) -> "ReleaseQuerySet":
        """The current revision of every published table: not superseded or withdrawn."""
        return self.filter(status=Release.Status.PUBLISHED)

    def public(self) -> "ReleaseQuerySet":
        """Releases the public site knows of: readable ones, and withdrawn ones as a notice."""
        return self.filter(status__in=Release.PUBLIC_STATUSES)

    def readable(self) -> "ReleaseQuerySet":
        """Releases whose numbers anyone may read: published, or superseded by a correction."""
        return self.filter(status__in=Release.READABLE_STATUSES)

    def embargoed(self) -> "ReleaseQuerySet":
        """Releases whose numbers are final but not yet public (board previews)."""
        return self.filter(status__in=Release.EMBARGOED_STATUSES)

    def previewable_by(self, user: Any) -> "ReleaseQuerySet":
        """Embargoed releases with a row for a trust on whose board `user` sits, if the user
        holds the preview right; none otherwise."""
        if not user.is_authenticated or not user.is_active or not user.has_perm(PREVIEW_PERMISSION):
            return self.none()
        return (
            self.embargoed().filter(trust_results__trust__board_memberships__user=user).distinct()
        )

    def visible_to_board(self, trust: Any, user: Any) -> "ReleaseQuerySet":
        """Releases with a row for `trust` that its board member `user` may see: published ones,
        and embargoed ones if the user may preview. The caller has checked the membership."""
        statuses = [Release.Status.PUBLISHED]
        if _may_preview(user):
            statuses += Release.EMBARGOED_STATUSES
        return self.filter(status__in=statuses, trust_results__trust=trust)

    def previous_of(self, release: "Release") -> "Release | None":
        """The release of the quarter before `release`, same peer group, among these: for
        movement since last quarter. Call it on `published()` so that movement shown beside a
        table never reveals the ranks of an unpublished one."""
        year, number = release.quarter.previous_key
        return (
            self.filter(
                peer_group_id=release.peer_group_id,
                quarter__year_start=year,
                quarter__number=number,
            )
            .select_related("quarter")
            .first()
        )

    def fixing_inputs(self) -> "ReleaseQuerySet":
        """Releases whose inputs a second regulator has signed off, so they may not change."""
        return self.filter(status__in=Release.INPUTS_FIXED_STATUSES)

    def fixing_frameworks(self) -> "ReleaseQuerySet":
        """Releases whose framework version (metrics, method, thresholds) may not change."""
        return self.filter(status__in=Release.FRAMEWORK_FIXED_STATUSES)

    def delete(self) -> tuple[int, dict[str, int]]:
        # Only a draft may disappear: anything submitted has an audit trail to keep.
        if self.exclude(status=Release.Status.DRAFT).exists():
            raise PublishedDataIsFixed("Only draft releases can be deleted.")
        return super().delete()


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

    # Known to the public site (a withdrawn release only as its notice).
    PUBLIC_STATUSES = (Status.PUBLISHED, Status.SUPERSEDED, Status.WITHDRAWN)
    # Whose numbers may be shown to anyone.
    READABLE_STATUSES = (Status.PUBLISHED, Status.SUPERSEDED)
    # Checked by an approver and not yet public: a trust's board may preview its own row. Not
    # while only submitted: the numbers are not final until approved, and may be returned.
    EMBARGOED_STATUSES = (Status.APPROVED, Status.SCHEDULED)
    # Signed off by a second regulator: changing the inputs would make the numbers shown (or
    # about to be shown) disagree with the data they claim to come from.
    INPUTS_FIXED_STATUSES = (Status.APPROVED, Status.SCHEDULED, Status.PUBLISHED)
    # A framework version stays fixed for good once a release scored with it is signed off: a
    # superseded revision stays readable, and a withdrawn one's notice names its framework.
    # Unlike inputs, a correction does not reopen it: the correction uses a new version.
    FRAMEWORK_FIXED_STATUSES = (*INPUTS_FIXED_STATUSES, Status.SUPERSEDED, Status.WITHDRAWN)
    # A correction being prepared: from then on the corrected data may go in.
    OPEN_CORRECTION_STATUSES = (Status.DRAFT, Status.SUBMITTED)

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
    domain_thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text='Domain slug → {"method": "fixed" or "quartiles", "t1", "t2", "t3"} '
        "(decimal strings): the thresholds of the domain segments. Quartile thresholds are "
        "filled in when the release is computed; a domain not listed uses quartiles.",
    )
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
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the running computation."
    )
    computation_worker = models.CharField(
        max_length=200, blank=True, help_text="The worker process computing it (or last did)."
    )
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
        excluded_fields=[
            "progress",
            "progress_message",
            "computation_started_at",
            "heartbeat_at",
            "computation_worker",
        ]
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whatever path creates a release (the admin, a command, a script), it is never scored
        # with another peer group's framework, or one not in use for its quarter.
        if self._state.adding:
            mismatch = self.framework_mismatch()
            if mismatch is not None:
                raise ValidationError({"framework": mismatch})
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "public:league-table",
            kwargs={"peer_group": self.peer_group.slug, "quarter": self.quarter.slug},
        )

    def clean(self) -> None:
        super().clean()
        if self._state.adding:
            mismatch = self.framework_mismatch()
            if mismatch is not None:
                raise ValidationError({"framework": mismatch})

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != self.Status.DRAFT:
            raise PublishedDataIsFixed(
                f"{self} is {self.get_status_display().lower()}: only a draft can be deleted."
            )
        return super().delete(*args, **kwargs)

    def framework_mismatch(self) -> str | None:
        """Why the chosen framework cannot score this release, or None.

        A framework scores one peer group's trusts on that group's metrics, for the quarters it
        is in use for: any other pairing would rank, say, mental health trusts on acute
        metrics, and be computed and submitted without a word.
        """
        if None in (self.framework_id, self.peer_group_id, self.quarter_id):
            return None  # the missing field has its own error
        framework = self.framework
        if framework.peer_group_id != self.peer_group_id:
            return (
                f"{framework} is the framework of {framework.peer_group.name} trusts, not of "
                f"{self.peer_group.name}: choose a {self.peer_group.name} framework."
            )
        if not framework.quarters.filter(pk=self.quarter_id).exists():
            return (
                f"{framework} is not in use for {self.quarter.label}: choose a framework that "
                "covers this quarter, or add the quarter to the framework first."
            )
        return None

    @property
    def thresholds(self) -> tuple[float, float, float] | None:
        if self.t1 is None or self.t2 is None or self.t3 is None:
            return None
        return (float(self.t1), float(self.t2), float(self.t3))

    def fixed_domain_thresholds(self) -> dict[str, tuple[float, float, float]]:
        """Domain slug → the thresholds a regulator fixed; the other domains take quartiles."""
        return {
            slug: (float(entry["t1"]), float(entry["t2"]), float(entry["t3"]))
            for slug, entry in self.domain_thresholds.items()
            if entry.get("method") == DOMAIN_FIXED
        }

    @property
    def is_correction(self) -> bool:
        return self.supersedes_id is not None


def _refuse_unless_draft(release_ids: Iterable[int | None]) -> None:
    """Refuse a write to results of any release that is past draft (published means fixed)."""
    ids = {pk for pk in release_ids if pk is not None}
    if not ids:
        return
    fixed = Release.objects.filter(pk__in=ids).exclude(status=Release.Status.DRAFT).first()
    if fixed is not None:
        raise PublishedDataIsFixed(
            f"The results of {fixed} are fixed: it is {fixed.get_status_display().lower()}. "
            "Changes are made in a correction (a new revision)."
        )


class ResultQuerySet(models.QuerySet):
    """Results change only while their release is a draft, also through the bulk paths."""

    def update(self, **kwargs: Any) -> int:
        _refuse_unless_draft(self.order_by().values_list("release_id", flat=True).distinct())
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse_unless_draft(self.order_by().values_list("release_id", flat=True).distinct())
        return super().delete()

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        _refuse_unless_draft(obj.release_id for obj in objs)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        _refuse_unless_draft(obj.release_id for obj in objs)
        return super().bulk_update(objs, *args, **kwargs)


class ResultOfRelease(models.Model):
    """What every result row shares: it is written by the computation while its release is a
    draft, and never again afterwards."""

    objects = ResultQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_unless_draft([self.release_id])
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse_unless_draft([self.release_id])
        return super().delete(*args, **kwargs)


class TrustResult(ResultOfRelease):
    """One row of a league table.

    It keeps the trust's name, subtype and region as they were when the table was computed:
    a later rename or reorganisation shows on the trust's current pages, while the table (its
    pages, downloads, API and NHS England's byte-for-byte CSV) keeps saying what it said.
    """

    # No index of its own: unique (release, trust) serves every lookup by release.
    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="trust_results", db_index=False
    )
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="results")
    trust_name = models.CharField(max_length=200, help_text="The trust's name in this table.")
    trust_subtype = models.CharField(max_length=100, help_text="Its subtype in this table.")
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="published_results",
        help_text="Its region in this table.",
    )
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
    domain_segments = models.JSONField(
        default=dict, help_text="Domain slug → segment 1 to 4 of the domain score."
    )

    class Meta:
        ordering = ["release", "rank", "trust_name"]
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


class MetricResult(ResultOfRelease):
    """One trust's value and score on one metric in a release.

    On PostgreSQL the database holds each metric result to its row of the same league table:
    one composite foreign key, (release, trust) to TrustResult's unique (release, trust), checked
    at commit (migration 0009), instead of one to the release and one to the trust. It is the
    stronger rule (the trust is in that release's table, not merely a trust) and one check a row
    instead of two: at national scale, 390,000 rows, that is about a second of every write.
    Django still treats `release` and `trust` as foreign keys (joins, cascade on deleting a
    release, protection of a trust with results); SQLite keeps its plain foreign keys on both
    columns (tests/releases/test_result_writes.py checks both databases hold their rule).
    """

    # No index of its own: (release, metric) and unique (release, trust, metric) both begin
    # with it, and a fourth index slowed every national write.
    release = models.ForeignKey(
        Release,
        on_delete=models.CASCADE,
        related_name="metric_results",
        db_index=False,
        db_constraint=False,
    )
    trust = models.ForeignKey(
        Trust, on_delete=models.PROTECT, related_name="metric_results", db_constraint=False
    )
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


class MetricPeerStatistics(ResultOfRelease):
    """Median and quartiles of a metric across the peer group, shown beside every value."""

    # No index of its own: unique (release, metric) begins with it.
    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="peer_statistics", db_index=False
    )
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


class ReleaseTransition(models.Model):
    """One step in a release's life: who moved it, from what, to what, when and why.

    Written by the lifecycle service in the same transaction as the change it records, and
    never changed or deleted afterwards.
    """

    class Action(models.TextChoices):
        SUBMIT = "submit", "Submitted for approval"
        APPROVE = "approve", "Approved"
        RETURN = "return", "Returned for changes"
        SCHEDULE = "schedule", "Scheduled for publication"
        PUBLISH = "publish", "Published"
        WITHDRAW = "withdraw", "Withdrawn"
        START_CORRECTION = "correct", "Correction started"
        SUPERSEDE = "supersede", "Superseded by a correction"
        # A draft's parameters changed, or its recomputation asked for, by a regulator: not a
        # move between statuses, but what maker-checker asks about ("who made these numbers").
        PREPARE = "prepare", "Parameters changed"
        RECOMPUTE = "recompute", "Recomputation asked for"

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(max_length=10, choices=Action.choices)
    from_status = models.CharField(max_length=10, choices=Release.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Release.Status.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="release_transitions",
        help_text="Empty when the scheduler published the release.",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(
        default=dict, blank=True, help_text="What else the step decided, e.g. the time set."
    )
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["release", "at", "pk"]
        get_latest_by = ["at", "pk"]

    def __str__(self) -> str:
        who = self.user or "the scheduler"
        return (
            f"{self.release_id}: {self.get_action_display()} by {who} at {self.at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PublishedDataIsFixed("An audit entry is never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PublishedDataIsFixed("An audit entry is never deleted.")


class RefusedTransition(models.Model):
    """An attempt to move a release that the lifecycle refused: who, when, what and why.

    Written by the one transition dispatcher, outside the refused transaction (which rolled
    back), whatever the path: an admin page, a list action, the review screen or the `release`
    command. Never changed afterwards.
    """

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="refusals")
    action = models.CharField(max_length=20)
    status = models.CharField("status at the time", max_length=10, choices=Release.Status.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refused_release_transitions",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    why = models.TextField(help_text="The refusal, as the person who tried was told it.")
    via = models.CharField(max_length=40, blank=True, help_text="Where the attempt came from.")
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["release", "at", "pk"]
        get_latest_by = ["at", "pk"]

    def __str__(self) -> str:
        who = self.user or "someone not signed in"
        return f"{self.release_id}: {self.action} refused for {who} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PublishedDataIsFixed("An audit entry is never changed once written.")
        super().save(*args, **kwargs)
