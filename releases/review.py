"""What the checker looks at before approving a release.

Changes against the previous quarter's published release (segment changes, largest rank movers,
metrics a trust newly lacks or newly has) or, for a correction, against the revision it
corrects (every changed value, score, segment and rank, and the correction's reason), data
completeness per trust (of the metrics that apply to it), values far outside the peer group's
usual range, and the parameters it was computed with. A fixed handful of queries whatever the
size of the peer group.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from metrics.models import Metric
from releases import applicability
from releases.applicability import Coverage
from releases.corrections import (
    CorrectionChanges,
    correction_changes,
    hand_written_note,
    note_parts,
)
from releases.models import (
    MetricPeerStatistics,
    MetricResult,
    Release,
    ReleaseTransition,
    TrustResult,
)
from releases.selectors import release_domains, thresholds_by_domain
from releases.services import lifecycle
from trusts.models import Trust

# Tukey's "far out" fences: beyond three interquartile ranges from the quartiles a value is
# rare enough in any plausible distribution to be worth a second look before publication.
FENCE = Decimal(3)


@dataclass(frozen=True)
class SegmentChange:
    trust: Trust
    before: int | None
    after: int | None


@dataclass(frozen=True)
class RankMove:
    trust: Trust
    before: int
    after: int

    @property
    def places(self) -> int:
        """Places gained (positive is up the table)."""
        return self.before - self.after


@dataclass(frozen=True)
class CoverageChange:
    trust: Trust
    newly_missing: list[str]
    newly_present: list[str]


@dataclass(frozen=True)
class Completeness:
    trust: Trust
    scored: int
    expected: int
    missing: list[str]
    not_applicable: list[str] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.scored / self.expected) if self.expected else 100


@dataclass(frozen=True)
class UnusualValue:
    trust: Trust
    metric_code: str
    value: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class CorrectionReview:
    """A correction seen beside the revision it corrects, with why it was made."""

    changes: CorrectionChanges
    reason: str
    started: ReleaseTransition | None
    # What the public note lists: as stored once submitted, else what submitting will write.
    public_lines: list[str]


@dataclass
class ReleaseReview:
    release: Release
    previous: Release | None
    inputs_changed: bool
    parameters: list[tuple[str, str]]
    correction: CorrectionReview | None = None
    segment_changes: list[SegmentChange] = field(default_factory=list)
    rank_movers: list[RankMove] = field(default_factory=list)
    coverage_changes: list[CoverageChange] = field(default_factory=list)
    completeness: list[Completeness] = field(default_factory=list)
    metrics_without_data: list[Metric] = field(default_factory=list)
    unusual_values: list[UnusualValue] = field(default_factory=list)


def review_release(release: Release, movers: int = 10) -> ReleaseReview:
    # A correction is judged against what it corrects: last quarter's movement would hide
    # what the correction changes among what the quarter changed.
    correction = _correction_review(release)
    previous = None if correction else Release.objects.published().previous_of(release)
    review = ReleaseReview(
        release=release,
        previous=previous,
        inputs_changed=release.computed_at is not None and lifecycle.inputs_changed(release),
        parameters=_parameters(release),
        correction=correction,
    )
    current = {
        r.trust_id: r for r in TrustResult.objects.filter(release=release).select_related("trust")
    }
    scored = _scored_metrics(release)

    if previous is not None:
        before = {r.trust_id: r for r in TrustResult.objects.filter(release=previous)}
        moves = []
        for trust_id, now in current.items():
            then = before.get(trust_id)
            if then is None:
                continue
            if then.segment != now.segment:
                review.segment_changes.append(SegmentChange(now.trust, then.segment, now.segment))
            if then.rank and now.rank and then.rank != now.rank:
                moves.append(RankMove(now.trust, then.rank, now.rank))
        moves.sort(key=lambda m: (-abs(m.places), m.trust.name))
        review.rank_movers = moves[:movers]
        earlier = _scored_metrics(previous)
        for trust_id, now in current.items():
            if trust_id not in before:
                continue
            missing = sorted(earlier.get(trust_id, set()) - scored.get(trust_id, set()))
            present = sorted(scored.get(trust_id, set()) - earlier.get(trust_id, set()))
            if missing or present:
                review.coverage_changes.append(CoverageChange(now.trust, missing, present))
        review.segment_changes.sort(key=lambda c: c.trust.name)
        review.coverage_changes.sort(key=lambda c: c.trust.name)

    metrics = applicability.release_metrics(release)
    review.completeness = _completeness(release, metrics, current.values(), scored)
    review.metrics_without_data = [d.metric for d in metrics.without_data]
    review.unusual_values = _unusual_values(release)
    return review


def _completeness(
    release: Release,
    metrics: applicability.ReleaseMetrics,
    rows: Iterable[TrustResult],
    scored: dict[int, set[str]],
) -> list[Completeness]:
    """Each trust's counted metrics scored, of those that apply to it in this release: a
    metric no trust reported, or one that does not measure the trust's subtype (and that it
    did not report), is not missing (releases.applicability)."""
    counted = sorted(
        (d for d in metrics.shown if d.counted),
        key=lambda d: d.metric.code,
    )
    reported: dict[int, set[str]] = defaultdict(set)
    for trust_id, code in MetricResult.objects.filter(release=release).values_list(
        "trust_id", "metric__code"
    ):
        reported[trust_id].add(code)
    completeness = []
    for result in rows:
        have, shown = scored.get(result.trust_id, set()), reported[result.trust_id]
        expected, not_applicable = [], []
        for definition in counted:
            code = definition.metric.code
            status = applicability.coverage(definition, result.trust_subtype, code in shown)
            (not_applicable if status == Coverage.NOT_APPLICABLE else expected).append(code)
        missing = [code for code in expected if code not in have]
        completeness.append(
            Completeness(
                result.trust,
                len(expected) - len(missing),
                len(expected),
                missing,
                not_applicable,
            )
        )
    completeness.sort(key=lambda c: (c.percent, c.trust.name))
    return completeness


def _correction_review(release: Release) -> CorrectionReview | None:
    changes = correction_changes(release)
    if changes is None:
        return None
    started = (
        ReleaseTransition.objects.filter(
            release=release, action=ReleaseTransition.Action.START_CORRECTION
        )
        .select_related("user")
        .first()
    )
    stored = note_parts(release.correction_note).items
    listed = stored if stored and release.status != Release.Status.DRAFT else changes.lines()
    return CorrectionReview(changes, hand_written_note(release.correction_note), started, listed)


def _scored_metrics(release: Release) -> dict[int, set[str]]:
    scored: dict[int, set[str]] = defaultdict(set)
    for trust_id, code in MetricResult.objects.filter(
        release=release, score__isnull=False
    ).values_list("trust_id", "metric__code"):
        scored[trust_id].add(code)
    return scored


def _unusual_values(release: Release) -> list[UnusualValue]:
    fences: dict[int, tuple[Decimal, Decimal]] = {}
    for statistics in MetricPeerStatistics.objects.filter(
        release=release, lower_quartile__isnull=False, upper_quartile__isnull=False
    ):
        spread = statistics.upper_quartile - statistics.lower_quartile
        if spread > 0:
            fences[statistics.metric_id] = (
                statistics.lower_quartile - FENCE * spread,
                statistics.upper_quartile + FENCE * spread,
            )
    if not fences:
        return []
    unusual = []
    for result in MetricResult.objects.filter(
        release=release, metric_id__in=fences, value__isnull=False
    ).select_related("trust", "metric"):
        low, high = fences[result.metric_id]
        if not low <= result.value <= high:
            unusual.append(UnusualValue(result.trust, result.metric.code, result.value, low, high))
    unusual.sort(key=lambda u: (u.metric_code, u.trust.name))
    return unusual


def _parameters(release: Release) -> list[tuple[str, str]]:
    return [
        ("Framework", str(release.framework)),
        ("Threshold method", release.get_threshold_method_display()),
        ("Thresholds t1 / t2 / t3", f"{release.t1} / {release.t2} / {release.t3}"),
        *domain_threshold_rows(release),
        ("Random seed", str(release.seed)),
        ("Bootstrap replicates", str(release.replicates)),
        ("Supplied scores used", "yes" if release.use_supplied_scores else "no"),
        ("Input checksum (SHA-256)", release.input_checksum or "not computed"),
        (
            "Computed at",
            f"{timezone.localtime(release.computed_at):%d %b %Y %H:%M}"
            if release.computed_at
            else "never",
        ),
    ]


def domain_threshold_rows(release: Release) -> list[tuple[str, str]]:
    """One line per domain: its thresholds and whether a regulator set them or they are
    quartiles (METHODOLOGY 4.6); quartiles not yet computed say so."""
    rows = []
    for used in thresholds_by_domain(release, release_domains(release)):
        values = " / ".join(map(str, used.values)) if used.values else "taken when computed"
        domain = used.domain
        label = f"Domain thresholds: {domain.score_code or domain.slug} {domain.name}"
        rows.append((label, f"{values} ({used.method_label})"))
    return rows
