import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from adminkit.errors import Refused
from metrics import input_locks
from metrics.scoring_params import validate_params
from trusts.models import PeerGroup, Trust
from trusts.reference import TRUST_TYPES

QUARTER_LABEL = re.compile(r"Q([1-4]) (\d{4})/(\d{2})")
QUARTER_SLUG = re.compile(r"(\d{4})-(\d{2})-q([1-4])")


class PublishedFrameworkIsFixed(Refused):
    """A write would change what a signed-off release says about how it was scored.

    A PermissionDenied, so a write that slips past the admin's own validation answers 403 with
    the reason; `because_of` lists the signed-off releases scored with it.
    """


NEW_VERSION_HINT = (
    "Make a new version of the framework instead (admin: Frameworks → select it → “Make a new "
    "version”), change that, and make it active: releases created from then on use it."
)


class FrameworkContentQuerySet(models.QuerySet):
    """What a signed-off release was scored with stays fixed on the bulk paths too."""

    def update(self, **kwargs: Any) -> int:
        fixed = set(kwargs) & set(self.model.fixed_fields())
        if fixed:
            for row in self.order_by():
                row.assert_unfixed(sorted(fixed))
                # The same checks as save(): scoring parameters are validated on this path too.
                for name, value in kwargs.items():
                    setattr(row, name, value)
                row.validate_before_save()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        for row in self.order_by():
            row.assert_unfixed(["deleted"])
        return super().delete()


class FrameworkContent(models.Model):
    """A row of what a framework version says (its metrics, domains, method, thresholds).

    Once a release computed with it is signed off (approved, scheduled, published, and
    afterwards superseded or withdrawn), what it says is part of that release as published and
    never changes in place: an edit makes a new framework version. Subclasses name the fields
    that are fixed and the release (if any) that fixes them.
    """

    FIXED_FIELDS: tuple[str, ...] = ()

    objects = FrameworkContentQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.validate_before_save()
        self.assert_unfixed(self.changed_fixed_fields())
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self.assert_deletable()
        return super().delete(*args, **kwargs)

    def assert_deletable(self) -> None:
        """Raise `PublishedFrameworkIsFixed` if a signed-off release was scored with this row
        (the admin asks before it offers the deletion)."""
        self.assert_unfixed(["deleted"])

    @classmethod
    def fixed_fields(cls) -> tuple[str, ...]:
        return cls.FIXED_FIELDS

    def validate_before_save(self) -> None:
        """Checks every write must pass, whatever the path (admin, code, bulk update)."""

    def fixing_releases(self) -> list[Any]:
        """The signed-off releases that fix this row, oldest first (none: it may change)."""
        raise NotImplementedError

    def refusal(self, releases: list[Any], changed: list[str]) -> str:
        raise NotImplementedError

    def changed_fixed_fields(self) -> list[str]:
        """The fixed fields this unsaved state changes ("added" for a new row)."""
        if self._state.adding or self.pk is None:
            return ["added"]
        attnames = {name: self._meta.get_field(name).attname for name in self.FIXED_FIELDS}
        stored = type(self)._base_manager.filter(pk=self.pk).values(*attnames.values()).first()
        if stored is None:
            return ["added"]
        return [
            name for name, attname in attnames.items() if getattr(self, attname) != stored[attname]
        ]

    def assert_unfixed(self, changed: list[str]) -> None:
        if not changed:
            return
        releases = self.fixing_releases()
        if releases:
            raise PublishedFrameworkIsFixed(self.refusal(releases, changed), because_of=releases)

    def clean(self) -> None:
        super().clean()
        changed = self.changed_fixed_fields()
        if changed and (releases := self.fixing_releases()):
            raise ValidationError(self.refusal(releases, changed))


def named_releases(releases: list[Any], shown: int = 3) -> str:
    """ "A (published)", "A (published) and B (superseded by a correction)", "A (…), B (…), C
    (…) and 4 other releases": which releases, each with its status."""
    names = [f"{r} ({r.get_status_display().lower()})" for r in releases[:shown]]
    if len(releases) > shown:
        return f"{', '.join(names)} and {len(releases) - shown} other releases"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _framework_refusal(releases: list[Any], what: str) -> str:
    """`what` is refused ("How OF0084 is scored in NOF v1 cannot change"), and why."""
    verb = "was" if len(releases) == 1 else "were"
    return (
        f"{what}: {named_releases(releases)} {verb} computed with that framework version, "
        f"and a signed-off release keeps the framework it was scored with. {NEW_VERSION_HINT}"
    )


class Quarter(models.Model):
    """A financial-year quarter, labelled as NHS England writes it: "Q4 2025/26".

    The quarter arithmetic lives here and nowhere else: labels and URL slugs both ways, the
    previous quarter, the months a quarter spans.
    """

    year_start = models.PositiveSmallIntegerField(help_text="2025 for 2025/26.")
    number = models.PositiveSmallIntegerField(choices=[(n, f"Q{n}") for n in range(1, 5)])
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["year_start", "number"]
        constraints = [
            models.UniqueConstraint(fields=["year_start", "number"], name="unique_quarter")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year_start}/{(self.year_start + 1) % 100:02d}"

    @property
    def slug(self) -> str:
        return f"{self.year_start}-{(self.year_start + 1) % 100:02d}-q{self.number}"

    @property
    def key(self) -> tuple[int, int]:
        """(year_start, number): sorts quarters in time order."""
        return (self.year_start, self.number)

    @property
    def previous_key(self) -> tuple[int, int]:
        """(year_start, number) of the quarter before this one."""
        return previous_quarter(self.year_start, self.number)

    @staticmethod
    def parse(text: str, *, slug_only: bool = False) -> tuple[int, int]:
        """(year_start, number) from "Q4 2025/26" or the URL slug "2025-26-q4".

        Raises ValueError, with a message for the person who wrote it, for anything else.
        """
        text = text.strip()
        if not slug_only and (match := QUARTER_LABEL.fullmatch(text)):
            number, year, short = int(match[1]), int(match[2]), int(match[3])
        elif match := QUARTER_SLUG.fullmatch(text):
            year, short, number = int(match[1]), int(match[2]), int(match[3])
        else:
            raise ValueError(f'Quarter {text!r}: write it as "Q4 2025/26".')
        if (year + 1) % 100 != short:
            raise ValueError(f"Quarter {text!r}: {year}/{short:02d} is not a financial year.")
        return year, number

    @staticmethod
    def dates(year_start: int, number: int) -> tuple[date, date]:
        """NHS financial quarters: Q1 is April to June of `year_start`, Q4 January to March."""
        first_month = 4 + 3 * (number - 1)
        year = year_start + (first_month - 1) // 12
        month = (first_month - 1) % 12 + 1
        end_month = month + 2
        next_start = date(year + 1, 1, 1) if end_month == 12 else date(year, end_month + 1, 1)
        return date(year, month, 1), date.fromordinal(next_start.toordinal() - 1)

    @staticmethod
    def of_month(year: int, month: int) -> tuple[int, int]:
        """(year_start, number) of the financial quarter containing a calendar month."""
        year_start = year if month >= 4 else year - 1
        return year_start, (month - 4) % 12 // 3 + 1


def previous_quarter(year_start: int, number: int) -> tuple[int, int]:
    return (year_start, number - 1) if number > 1 else (year_start - 1, 4)


class FrameworkQuerySet(FrameworkContentQuerySet):
    def with_method(self) -> "FrameworkQuerySet":
        """With the peer group, and the domains and their metric definitions in display order:
        everything the methodology page and the API's frameworks need, in three queries."""
        definitions = MetricDefinition.objects.select_related("metric").order_by(
            "display_order", "metric__code"
        )
        domains = Domain.objects.order_by("display_order").prefetch_related(
            models.Prefetch("definitions", queryset=definitions)
        )
        return self.select_related("peer_group").prefetch_related(
            models.Prefetch("domains", queryset=domains)
        )


class Framework(FrameworkContent):
    """A versioned scoring framework for one peer group (e.g. NOF 2025/26, mental health).

    Its status, quarters and default replicates stay editable: they decide what happens next,
    not what a signed-off release says (the methodology page shows the rest, freedom rule
    included).
    """

    FIXED_FIELDS = (
        "slug",
        "name",
        "version",
        "peer_group",
        "description",
        "use_supplied_scores",
        "rank_recovery_support_by_adjusted_segment",
        "freedom_max_segment",
        "freedom_requires_no_deficit",
    )

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    version = models.PositiveSmallIntegerField(default=1)
    peer_group = models.ForeignKey(PeerGroup, on_delete=models.PROTECT, related_name="frameworks")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    quarters = models.ManyToManyField(Quarter, related_name="frameworks", blank=True)
    description = models.TextField(blank=True)
    default_replicates = models.PositiveIntegerField(default=5000)
    use_supplied_scores = models.BooleanField(
        default=True,
        help_text="Use a score supplied with the data in place of computing it (replays a "
        "published file; needed where the scoring pool is national).",
    )
    rank_recovery_support_by_adjusted_segment = models.BooleanField(
        default=False,
        help_text="Rank trusts in the Recovery Support Programme by their segment before "
        "segment 5, as NHS England's Q1 and Q2 2025/26 files do. Off: they rank last, as "
        "the methodology (section 5) says.",
    )
    freedom_max_segment = models.PositiveSmallIntegerField(
        default=1, help_text="Earned autonomy: trusts at or above this segment are eligible."
    )
    freedom_requires_no_deficit = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["peer_group", "slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="unique_framework_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def changed_fixed_fields(self) -> list[str]:
        # A new framework (or version) is never fixed by anything.
        changed = super().changed_fixed_fields()
        return [] if changed == ["added"] else changed

    def fixing_releases(self) -> list[Any]:
        return input_locks.releases_fixing_framework([self.pk]) if self.pk else []

    def refusal(self, releases: list[Any], changed: list[str]) -> str:
        if changed == ["deleted"]:
            return _framework_refusal(releases, f"{self} cannot be deleted")
        fields = ", ".join(changed).capitalize()
        return _framework_refusal(releases, f"{fields} of {self} cannot change")


class Domain(FrameworkContent):
    FIXED_FIELDS = ("framework", "slug", "name", "score_code", "segment_code", "display_order")

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="domains")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=100)
    score_code = models.CharField(
        max_length=20,
        blank=True,
        help_text="NHS England's ID of the domain score in its data file, e.g. OF4000.",
    )
    segment_code = models.CharField(
        max_length=20,
        blank=True,
        help_text="NHS England's ID of the domain segment in its data file, e.g. OF4100.",
    )
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["framework", "display_order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "slug"], name="unique_domain_slug")
        ]

    def __str__(self) -> str:
        return self.name

    def fixing_releases(self) -> list[Any]:
        return input_locks.releases_fixing_framework(
            _framework_ids(self, "framework_id", "framework")
        )

    def refusal(self, releases: list[Any], changed: list[str]) -> str:
        action = "be deleted" if changed == ["deleted"] else "change"
        return _framework_refusal(
            releases, f"The domain {self.name} of {self.framework} cannot {action}"
        )


def _framework_ids(row: models.Model, attname: str, field: str) -> set[int]:
    """The framework a row belongs to now and, for a stored row, the one it was stored under
    (moving a row out of a fixed framework changes that framework too)."""
    ids = {getattr(row, attname)}
    if row.pk is not None:
        ids |= set(type(row)._base_manager.filter(pk=row.pk).values_list(field, flat=True))
    return {pk for pk in ids if pk is not None}


class Metric(FrameworkContent):
    """What is measured, independent of how a framework scores it.

    Observations belong to a metric, so a new framework version re-scores the same data. Its
    code, name, unit and direction are shown by every release whose framework scores it, so
    they are fixed once such a release is signed off; whether it is synthetic or about patient
    experience stays editable.
    """

    FIXED_FIELDS = ("code", "score_code", "name", "unit", "direction")

    class Direction(models.TextChoices):
        HIGHER_IS_BETTER = "higher", "Higher is better"
        LOWER_IS_BETTER = "lower", "Lower is better"

    code = models.CharField(max_length=20, unique=True, help_text="e.g. OF0084")
    score_code = models.CharField(
        max_length=20,
        blank=True,
        help_text="ID under which a supplied score is published, e.g. OF1084.",
    )
    name = models.CharField(max_length=300)
    unit = models.CharField(max_length=50, blank=True)
    direction = models.CharField(max_length=6, choices=Direction.choices)
    is_patient_experience = models.BooleanField(
        default=False, help_text='Shown under "what patients say".'
    )
    is_synthetic = models.BooleanField(
        default=False, help_text="Demo metric with generated values, not NHS England data."
    )
    minimum = models.DecimalField(
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="The lowest valid value (percentages 0, counts and rates 0); empty: none. "
        "Imports and admin edits refuse values outside the range.",
    )
    maximum = models.DecimalField(
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="The highest valid value (percentages 100, scores 4); empty: none.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minimum__isnull=True)
                | models.Q(maximum__isnull=True)
                | models.Q(minimum__lte=models.F("maximum")),
                name="metric_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def changed_fixed_fields(self) -> list[str]:
        changed = super().changed_fixed_fields()
        return [] if changed == ["added"] else changed

    def clean(self) -> None:
        super().clean()  # a signed-off release's metric keeps its code, name, unit, direction
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValidationError({"maximum": "The maximum must not be below the minimum."})
        beyond = models.Q()
        if self.minimum is not None:
            beyond |= models.Q(value__lt=self.minimum)
        if self.maximum is not None:
            beyond |= models.Q(value__gt=self.maximum)
        if self.pk is None or not beyond:
            return
        outside = self.observations.filter(beyond)
        example = outside.select_related("trust", "quarter").order_by("quarter", "trust").first()
        if example is not None:
            raise ValidationError(
                f"{outside.count()} stored values of {self.code} lie outside this range, e.g. "
                f"{example.trust.ods_code} in {example.quarter}: {written(example.value)}. "
                "Correct the values first, or choose a range that holds them."
            )

    def range_problem(self, value: Decimal) -> str | None:
        """Why `value` is not a valid value of this metric, or None if it is."""
        if self.minimum is not None and value < self.minimum:
            return f"below {self.code}'s valid range {self.range_label}"
        if self.maximum is not None and value > self.maximum:
            return f"above {self.code}'s valid range {self.range_label}"
        return None

    @property
    def range_label(self) -> str:
        low = "" if self.minimum is None else format(self.minimum.normalize(), "f")
        high = "" if self.maximum is None else format(self.maximum.normalize(), "f")
        if low and high:
            return f"{low} to {high}"
        if low:
            return f"{low} or more"
        if high:
            return f"{high} or less"
        return "(any number)"

    def fixing_releases(self) -> list[Any]:
        return input_locks.releases_fixing_metrics([self.pk]) if self.pk else []

    def refusal(self, releases: list[Any], changed: list[str]) -> str:
        what = (
            f"{self.code} cannot be deleted"
            if changed == ["deleted"]
            else (f"The {', '.join(changed)} of {self.code} cannot change")
        )
        verb = "shows" if len(releases) == 1 else "show"
        return (
            f"{what}: {named_releases(releases)} {verb} it as it is, signed off by an approver. "
            "A metric measured or described differently is a new metric, with its own code, in "
            "a new framework version."
        )


# Every metric score, supplied or computed, runs from 1.00 (best) to 4.00 (worst).
SCORE_MINIMUM = Decimal(1)
SCORE_MAXIMUM = Decimal(4)


def score_problem(score: Decimal) -> str | None:
    """Why `score` is not a metric score, or None if it is."""
    if not SCORE_MINIMUM <= score <= SCORE_MAXIMUM:
        return "a metric score runs from 1 to 4"
    return None


def written(value: Decimal | str | None) -> str:
    """A stored value as a person checking it against its source writes it: 86.02, not
    86.020000; "empty" for none."""
    if value is None or value == "":
        return "empty"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def stale_score_reason(
    trust_code: str,
    metric: "Metric",
    quarter: str,
    before: Decimal | str | None,
    after: Decimal | str | None,
    score: Decimal,
) -> str:
    """Why a new value may not keep the score supplied with the old one.

    A supplied score (NHS England's OF1xxx row) was worked out from the value it came with;
    kept beside a different value it publishes a contradiction: a value above the peer upper
    quartile scored as the metric with most room to improve, and a correction note saying
    nothing changed. Every path that changes a value refuses this with these words.
    """
    score_id = f" ({metric.score_code})" if metric.score_code else ""
    return (
        f"{trust_code} {metric.code} {quarter}: the value would change from {written(before)} "
        f"to {written(after)} but keep the supplied score {written(score)}{score_id}, which "
        f"was given for {written(before)}"
    )


class MetricDefinition(FrameworkContent):
    """How one framework version scores one metric; every parameter is data, not code.

    The parameters are checked against the method whenever a definition is saved (the admin,
    the data migrations, any code path), so a release never discovers at computation time
    that a banded metric has no bands.
    """

    FIXED_FIELDS = (
        "framework",
        "metric",
        "domain",
        "sub_domain",
        "method",
        "params",
        "pool",
        "counted",
        "assumptions",
        "display_order",
        "applies_to_subtypes",
        "not_applicable_note",
    )

    class Method(models.TextChoices):
        RANKED = "ranked", "Ranked"
        BANDED = "banded", "Banded (fixed thresholds)"
        LOOKUP = "lookup", "Lookup from other scores"
        CATEGORICAL = "categorical", "Categorical rating"
        SUPPLIED = "supplied", "Imported score"

    class Pool(models.TextChoices):
        PEER_GROUP = "peer", "Peer group"
        NATIONAL = "national", "All trusts nationally that report it"

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="definitions")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="definitions")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="definitions")
    sub_domain = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=12, choices=Method.choices)
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text='Banded: {"bands": [{"min": 0, "score": 1}, ...]}. Lookup: {"inputs": '
        '["OF0079", "OF0081"], "table": {"1,1": 1, ...}}. Categorical: {"categories": '
        '{"Good": 2, ...}}.',
    )
    pool = models.CharField(max_length=8, choices=Pool.choices, default=Pool.PEER_GROUP)
    counted = models.BooleanField(
        default=True,
        help_text="Counts towards the average (components of a combined metric do not).",
    )
    assumptions = models.TextField(
        blank=True, help_text="What in these parameters is inferred rather than published."
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    applies_to_subtypes = models.JSONField(
        "applies to subtypes",
        default=list,
        blank=True,
        help_text="The trust subtypes whose services this metric measures; none ticked: every "
        "subtype. A trust of another subtype that reports nothing for it is shown “Not "
        "applicable” and is not counted as missing it; one that reports it is scored on it.",
    )
    not_applicable_note = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shown beside “Not applicable”: why the metric does not measure the other "
        "subtypes, e.g. “a mental health crisis service”.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "display_order", "metric__code"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "metric"], name="unique_definition")
        ]

    def __str__(self) -> str:
        return f"{self.metric.code} in {self.framework}"

    def clean(self) -> None:
        if self.domain_id and self.framework_id and self.domain.framework_id != self.framework_id:
            raise ValidationError({"domain": "The domain belongs to another framework."})
        self.validate_before_save()
        if self.framework_id and self.applies_to_subtypes:
            known = known_subtypes(self.framework.peer_group)
            unknown = [name for name in self.applies_to_subtypes if name not in known]
            if unknown:
                raise ValidationError(
                    {
                        "applies_to_subtypes": f"No {self.framework.peer_group.name.lower()} "
                        f"trust has the subtype {', '.join(map(repr, unknown))}; the subtypes "
                        f"are {', '.join(sorted(known))}."
                    }
                )
        super().clean()

    def validate_before_save(self) -> None:
        known = set(Metric.objects.values_list("code", flat=True))
        code = self.metric.code if self.metric_id else ""
        validate_params(self.method, self.params, known, metric=code)
        problem = subtypes_problem(self.applies_to_subtypes)
        if problem:
            raise ValidationError({"applies_to_subtypes": problem})

    def applies_to(self, subtype: str) -> bool:
        """Whether the metric measures trusts of this subtype (every subtype when none is
        named). A trust it does not apply to may still report it, and is then scored on it."""
        return not self.applies_to_subtypes or subtype in self.applies_to_subtypes

    def fixing_releases(self) -> list[Any]:
        return input_locks.releases_fixing_framework(
            _framework_ids(self, "framework_id", "framework")
        )

    def refusal(self, releases: list[Any], changed: list[str]) -> str:
        code = self.metric.code if self.metric_id else "A metric"
        if changed == ["added"]:
            what = f"{code} cannot be added to {self.framework}"
        elif changed == ["deleted"]:
            what = f"{code} cannot be removed from {self.framework}"
        else:
            what = f"How {code} is scored in {self.framework} cannot change"
        return _framework_refusal(releases, what)


def known_subtypes(peer_group: PeerGroup) -> set[str]:
    """The subtypes a trust of this peer group may have: the register's list, and any a trust
    of the group has now."""
    listed = {subtype for slug, subtype in TRUST_TYPES.values() if slug == peer_group.slug}
    held = Trust.objects.filter(peer_group=peer_group).values_list("subtype", flat=True)
    return listed | {subtype for subtype in held.distinct() if subtype}


def subtypes_problem(subtypes: Any) -> str | None:
    """Why `subtypes` is not a list of trust subtypes a metric applies to, or None if it is."""
    if not isinstance(subtypes, list) or not all(
        isinstance(name, str) and name.strip() == name and name for name in subtypes
    ):
        return "A list of trust subtypes as the trust register writes them, or an empty list."
    if len(set(subtypes)) != len(subtypes):
        return "Each subtype once."
    return None


def check_increasing(values: list[Any]) -> None:
    """Three thresholds t1 < t2 < t3, all given: the one rule for every threshold form."""
    if any(value is None for value in values):
        raise ValidationError("Fixed thresholds need t1, t2 and t3.")
    if not (values[0] < values[1] < values[2]):
        raise ValidationError("Thresholds must increase: t1 < t2 < t3.")


class ThreeThresholds(FrameworkContent):
    """Three thresholds t1 < t2 < t3 on the score scale of one framework and quarter: segment
    1 up to t1, 2 up to t2, 3 up to t3, 4 above; left empty when they are quartiles of a pool.

    Fixed once a signed-off release of that quarter used them; a later quarter's thresholds
    can still be added to the same framework version.
    """

    t1 = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    t2 = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    t3 = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        if self.method == "fixed":
            check_increasing([self.t1, self.t2, self.t3])
        super().clean()

    def fixing_releases(self) -> list[Any]:
        pairs = {(self.framework_id, self.quarter_id)}
        if self.pk is not None:
            pairs |= set(
                type(self)._base_manager.filter(pk=self.pk).values_list("framework", "quarter")
            )
        releases = {}
        for framework_id, quarter_id in pairs:
            for release in input_locks.releases_fixing_thresholds(framework_id, quarter_id):
                releases[release.pk] = release
        return list(releases.values())

    def refusal(self, releases: list[Any], changed: list[str]) -> str:
        first = releases[0]
        verb = "used" if len(releases) == 1 else "each used"
        return (
            f"The {self._meta.verbose_name_plural} of {first.framework} for {first.quarter} "
            f"cannot {'be deleted' if changed == ['deleted'] else 'change'}: "
            f"{named_releases(releases)} {verb} them, signed off by an approver. A correction "
            "of that release (a new revision) can set its own thresholds; a later quarter's "
            "are added as a new row."
        )


class Thresholds(ThreeThresholds):
    """Segment thresholds for one framework and quarter: typed in, or quartiles of a pool."""

    FIXED_FIELDS = ("framework", "quarter", "method", "t1", "t2", "t3", "source")

    class Method(models.TextChoices):
        FIXED = "fixed", "Fixed in advance"
        QUARTILES = "quartiles", "Quartiles of the peer group's averages"

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="thresholds")
    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="thresholds")
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.FIXED)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "thresholds"
        constraints = [
            models.UniqueConstraint(fields=["framework", "quarter"], name="unique_thresholds")
        ]

    def __str__(self) -> str:
        if self.method == self.Method.QUARTILES:
            return f"{self.quarter}: quartiles"
        return f"{self.quarter}: {self.t1} / {self.t2} / {self.t3}"

    def as_tuple(self) -> tuple[float, float, float] | None:
        if self.method == self.Method.QUARTILES:
            return None
        return (float(self.t1), float(self.t2), float(self.t3))


class DomainThresholds(ThreeThresholds):
    """Domain segment thresholds for one domain of a framework in one quarter (METHODOLOGY
    4.6): typed in by a regulator, or quartiles of the peer group's domain scores."""

    FIXED_FIELDS = ("framework", "quarter", "domain", "method", "t1", "t2", "t3", "source")

    class Method(models.TextChoices):
        FIXED = "fixed", "Fixed in advance"
        QUARTILES = "quartiles", "Quartiles of the peer group's domain scores"

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="domain_thresholds"
    )
    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="domain_thresholds")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="thresholds")
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.FIXED)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "domain thresholds"
        ordering = ["framework", "quarter", "domain__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "quarter", "domain"], name="unique_domain_thresholds"
            )
        ]

    def __str__(self) -> str:
        if self.method == self.Method.QUARTILES:
            return f"{self.domain} {self.quarter}: quartiles"
        return f"{self.domain} {self.quarter}: {self.t1} / {self.t2} / {self.t3}"

    def clean(self) -> None:
        if self.domain_id and self.framework_id and self.domain.framework_id != self.framework_id:
            raise ValidationError({"domain": "The domain belongs to another framework."})
        super().clean()


class ImportRun(models.Model):
    """Provenance of one data file: who loaded what, when, and what it did."""

    class Kind(models.TextChoices):
        TRUSTS = "trusts", "Trust register (ERIC or ODS)"
        NOF = "nof", "NOF data file"
        AE = "ae", "A&E monthly sitrep"
        COMPLAINTS = "complaints", "KO41a written complaints"
        SURVEY = "survey", "CQC patient survey benchmark"
        SYNTHETIC = "synthetic", "Synthetic demo values"

    class Status(models.TextChoices):
        # An admin upload goes validating → awaiting (confirmation) → queued → importing, then
        # imported or rejected; a command-line import goes from validating straight to the end.
        VALIDATING = "validating", "Validating"
        AWAITING = "awaiting", "Awaiting confirmation"
        QUEUED = "queued", "Queued for import"
        IMPORTING = "importing", "Importing"
        REJECTED = "rejected", "Rejected (nothing saved)"
        IMPORTED = "imported", "Imported"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    file_name = models.CharField(max_length=300)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    uploaded_file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_runs",
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALIDATING)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    report = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name} ({self.get_status_display()})"


def _assert_inputs_editable(rows: Iterable[tuple[int, int, int | None]]) -> None:
    """Refuse a write of (trust, quarter, metric) inputs that an approved, scheduled or
    published release used; the releases app decides, through `metrics.input_locks`."""
    by_quarter: dict[int, tuple[set[int], set[int]]] = {}
    for trust_id, quarter_id, metric_id in rows:
        trusts, metrics = by_quarter.setdefault(quarter_id, (set(), set()))
        trusts.add(trust_id)
        if metric_id is not None:
            metrics.add(metric_id)
    for quarter_id, (trusts, metrics) in by_quarter.items():
        input_locks.assert_observations_editable(trusts, quarter_id, metric_ids=metrics or None)


class InputQuerySet(models.QuerySet):
    """Observations and trust flags fixed by a release stay fixed on the bulk paths too: the
    importers write through simple-history's bulk helpers, which call these methods."""

    def update(self, **kwargs: Any) -> int:
        self._assert_editable()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._assert_editable()
        return super().delete()

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        _assert_inputs_editable(_object_rows(objs))
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        _assert_inputs_editable(_object_rows(objs))
        return super().bulk_update(objs, *args, **kwargs)

    def _assert_editable(self) -> None:
        rows = self.order_by()
        quarters = set(rows.values_list("quarter_id", flat=True).distinct())
        # The common case, nothing signed off in these quarters, costs two small queries.
        if not input_locks.releases_fixing_observations(quarters):
            return
        with_metric = any(field.name == "metric" for field in self.model._meta.fields)
        fields = ["trust_id", "quarter_id", *(["metric_id"] if with_metric else [])]
        _assert_inputs_editable(
            (row[0], row[1], row[2] if with_metric else None)
            for row in rows.values_list(*fields).distinct()
        )


def _object_rows(objs: list[Any]) -> list[tuple[int, int, int | None]]:
    return [(o.trust_id, o.quarter_id, getattr(o, "metric_id", None)) for o in objs]


class ReleaseInput(models.Model):
    """An input of the scoring (an observation, a trust's flags): fixed once a release that
    used it is signed off, and editable again only while a correction of it is open."""

    objects = InputQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _assert_inputs_editable(self._input_rows())
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self.assert_deletable()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if reason := self.fixed_reason():
            raise ValidationError(reason)

    def assert_deletable(self) -> None:
        """Raise the lock's `Refused` if a signed-off release used this input (the admin asks
        before it offers the deletion)."""
        _assert_inputs_editable(self._input_rows())

    def fixed_reason(self) -> str | None:
        """Why this input, as it stands or as it was stored, may not change; None if it may.
        For forms: the same check as `save()`, as a sentence."""
        try:
            _assert_inputs_editable(self._input_rows())
        except Refused as refusal:
            return refusal.message
        return None

    def _input_rows(self) -> list[tuple[int, int, int | None]]:
        rows = _object_rows([self])
        if self.pk is not None:
            # Moving an input to another trust, quarter or metric changes where it was, too.
            rows.extend(_object_rows(list(type(self).objects.filter(pk=self.pk))))
        return rows


class Observation(ReleaseInput):
    """One published value of one metric for one trust in one quarter."""

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="observations")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="observations")
    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="observations")
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    value_text = models.CharField(
        max_length=100, blank=True, help_text="For categorical metrics, e.g. a CQC rating."
    )
    supplied_score = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    reporting_period = models.CharField(max_length=100, blank=True)
    is_synthetic = models.BooleanField(default=False)
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    source_line = models.PositiveIntegerField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["quarter", "trust", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["trust", "metric", "quarter"], name="unique_observation"
            )
        ]
        indexes = [models.Index(fields=["quarter", "metric"])]

    def __str__(self) -> str:
        # As a regulator names it (the admin's lists select the three related rows).
        value = self.value_text or (
            "–" if self.value is None else format(Decimal(str(self.value)).normalize(), "f")
        )
        return f"{self.trust.ods_code} {self.metric.code} {self.quarter}: {value}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if reason := self.fixed_reason():
            errors[NON_FIELD_ERRORS] = reason
        if self.value is not None and self.metric_id is not None:
            problem = self.metric.range_problem(self.value)
            if problem:
                errors["value"] = f"{written(self.value)} is {problem}."
        if self.supplied_score is not None:
            problem = score_problem(self.supplied_score)
            if problem:
                errors["supplied_score"] = f"{written(self.supplied_score)}: {problem}."
        if errors:
            raise ValidationError(errors)


class TrustQuarterStatus(ReleaseInput):
    """The flags that override a trust's segment in a quarter."""

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="quarter_statuses")
    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="trust_statuses")
    in_financial_deficit = models.BooleanField(default=False)
    in_recovery_support = models.BooleanField(
        default=False, help_text="In the Recovery Support Programme: segment 5."
    )
    reason = models.TextField(blank=True, help_text="Why, for decisions made by a regulator.")
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.PROTECT, related_name="statuses"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "trust quarter statuses"
        ordering = ["quarter", "trust"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "quarter"], name="unique_trust_quarter")
        ]

    def __str__(self) -> str:
        return f"{self.trust.ods_code} {self.quarter}"


# Patient feedback ---------------------------------------------------------------------------
# Context shown beside a trust's results, never scored: no framework metric is defined on them.


class ComplaintsYear(models.Model):
    """One trust's written complaints in a financial year, as NHS England's KO41a counts them."""

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="complaints_years")
    year = models.CharField(max_length=7, help_text="Financial year, e.g. 2024/25.")
    new = models.PositiveIntegerField("new complaints")
    resolved = models.PositiveIntegerField("complaints resolved")
    upheld = models.PositiveIntegerField("resolved and upheld")
    partly_upheld = models.PositiveIntegerField("resolved and partly upheld")
    not_upheld = models.PositiveIntegerField("resolved and not upheld")
    subjects = models.JSONField(
        default=dict, help_text="New complaints by subject, as KO41a names the subjects."
    )
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    source_line = models.PositiveIntegerField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "complaints year"
        ordering = ["-year", "trust"]
        constraints = [
            models.UniqueConstraint(fields=["year", "trust"], name="unique_complaints_year")
        ]

    def __str__(self) -> str:
        return f"{self.trust_id} {self.year}: {self.new} new complaints"

    @property
    def upheld_share(self) -> float | None:
        """Share of resolved complaints upheld in full or in part (0 to 1)."""
        if not self.resolved:
            return None
        return (self.upheld + self.partly_upheld) / self.resolved

    def main_subjects(self, count: int = 3) -> list[tuple[str, int]]:
        ranked = sorted(
            ((name, n) for name, n in self.subjects.items() if n), key=lambda p: (-p[1], p[0])
        )
        return ranked[:count]


class SurveySectionResult(models.Model):
    """One section of a CQC patient survey for one trust: CQC's score, expected range and band."""

    class Band(models.IntegerChoices):
        # CQC's seven bands; 0 ("not applicable") is never stored.
        MUCH_WORSE = 1, "Much worse than expected"
        WORSE = 2, "Worse than expected"
        SOMEWHAT_WORSE = 3, "Somewhat worse than expected"
        ABOUT_THE_SAME = 4, "About the same as expected"
        SOMEWHAT_BETTER = 5, "Somewhat better than expected"
        BETTER = 6, "Better than expected"
        MUCH_BETTER = 7, "Much better than expected"

    survey = models.CharField(max_length=100, help_text='e.g. "Adult Inpatient Survey".')
    year = models.CharField(max_length=7, help_text="The survey's year, e.g. 2022.")
    section = models.CharField(max_length=10, help_text='CQC\'s section code, e.g. "S01".')
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="survey_sections")
    mean = models.DecimalField(max_digits=6, decimal_places=3, help_text="0 to 10, 10 best.")
    expected_low = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="Lower limit of CQC's expected range (95%)."
    )
    expected_high = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="Upper limit of CQC's expected range (95%)."
    )
    band = models.PositiveSmallIntegerField(choices=Band.choices)
    respondents = models.PositiveIntegerField(null=True, blank=True)
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.PROTECT, related_name="survey_sections"
    )
    source_line = models.PositiveIntegerField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["survey", "-year", "section", "trust"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "year", "section", "trust"], name="unique_survey_section"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trust_id} {self.survey} {self.year} {self.section}: {self.mean}"

    @property
    def section_label(self) -> str:
        """ "Section 1" for "S01": the workbook numbers its sections without naming them."""
        digits = self.section.lstrip("Ss").lstrip("0") or "0"
        return f"Section {digits}"
