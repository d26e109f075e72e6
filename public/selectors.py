"""What the public may read, and nothing else.

Every public page, download, feed and API response reads releases through these functions, so
the visibility rule lives in one place: only PUBLISHED (the current revision), SUPERSEDED (an
old revision, readable at its revision URL) and WITHDRAWN (the notice only, never its numbers)
releases are ever visible. Draft, submitted, approved and scheduled releases never are.

Each function issues a fixed number of queries whatever the number of trusts: rows come with
their trust and region in one join, and the statistics a page shows beside them are loaded in
one query each and joined in Python.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.http import Http404

from metrics.imports.ae import AE_ATTENDANCES_KEY
from metrics.models import (
    Domain,
    Framework,
    MetricDefinition,
    Quarter,
    Thresholds,
)
from public.uncertainty import with_segment_uncertainty
from releases import applicability
from releases.applicability import Coverage
from releases.models import MetricPeerStatistics, MetricResult, Release, TrustResult
from releases.selectors import DomainThresholdsUsed, thresholds_by_domain
from releases.synthetic import synthetic_values_of
from trusts.models import ContextMeasure, PeerGroup, Region, Trust

MAX_COMPARED_TRUSTS = 4


class ReleaseWithdrawn(Exception):
    """The release asked for was withdrawn: only its notice may be shown."""

    def __init__(self, release: Release) -> None:
        super().__init__(f"{release} was withdrawn: {release.withdrawal_reason}")
        self.release = release


def visible_releases() -> QuerySet[Release]:
    return Release.objects.public().select_related(
        "quarter", "peer_group", "framework", "supersedes"
    )


def published_releases() -> QuerySet[Release]:
    """The current revision of every published table."""
    return Release.objects.published().select_related(
        "quarter", "peer_group", "framework", "supersedes"
    )


def parse_quarter_slug(slug: str) -> tuple[int, int]:
    """(year_start, number) from "2025-26-q4"; 404 for anything else."""
    try:
        return Quarter.parse(slug, slug_only=True)
    except ValueError as error:
        raise Http404("No such quarter.") from error


def release_at(peer_group: str, quarter: str, revision: int | None = None) -> Release:
    """The release at a public URL, or 404; raises ReleaseWithdrawn for a withdrawn one.

    Without a revision: the published revision, or else the latest withdrawn one (so its URL
    shows why it went). With one: that revision if it is published or superseded.
    """
    year_start, number = parse_quarter_slug(quarter)
    candidates = [
        release
        for release in visible_releases().filter(
            peer_group__slug=peer_group, quarter__year_start=year_start, quarter__number=number
        )
        if revision is None or release.revision == revision
    ]
    candidates.sort(key=lambda r: r.revision, reverse=True)
    if revision is None:
        published = [r for r in candidates if r.status == Release.Status.PUBLISHED]
        candidates = published or [r for r in candidates if r.status == Release.Status.WITHDRAWN]
    if not candidates:
        raise Http404("No published league table at this address.")
    release = candidates[0]
    if release.status == Release.Status.WITHDRAWN:
        raise ReleaseWithdrawn(release)
    return release


def readable_release(pk: int) -> Release:
    """A release by primary key whose numbers may be shown (API), or 404 / ReleaseWithdrawn."""
    release = visible_releases().filter(pk=pk).first()
    if release is None:
        raise Http404("No published release with this id.")
    if release.status == Release.Status.WITHDRAWN:
        raise ReleaseWithdrawn(release)
    return release


def latest_published_by_peer_group() -> list[Release]:
    """The latest published table of each peer group, in the peer groups' display order."""
    latest: dict[int, Release] = {}
    for release in published_releases().order_by(
        "peer_group__display_order", "-quarter__year_start", "-quarter__number"
    ):
        latest.setdefault(release.peer_group_id, release)
    return list(latest.values())


def league_table_rows(release: Release, previous: Release | None = None) -> QuerySet[TrustResult]:
    """Rows of a readable release with trust and region, annotated with published movement."""
    if release.status not in Release.READABLE_STATUSES:
        return TrustResult.objects.none()
    # The trust's name, subtype and region as the release has them (as published).
    rows = with_segment_uncertainty(
        TrustResult.objects.filter(release=release).select_related("trust", "region")
    )
    if previous is None:
        nothing = Value(None, output_field=IntegerField())
        return rows.annotate(previous_published_rank=nothing, movement=nothing)
    previous_rank = Subquery(
        TrustResult.objects.filter(release=previous, trust=OuterRef("trust")).values("rank")[:1],
        output_field=IntegerField(),
    )
    return rows.annotate(previous_published_rank=previous_rank).annotate(
        # Places gained: positive is up the table.
        movement=ExpressionWrapper(
            F("previous_published_rank") - F("rank"), output_field=IntegerField()
        ),
    )


def subtypes_of(release: Release) -> list[str]:
    return list(
        TrustResult.objects.filter(release=release)
        .order_by("trust_subtype")
        .values_list("trust_subtype", flat=True)
        .distinct()
    )


def regions() -> list[Region]:
    return list(Region.objects.all())


# Trust pages --------------------------------------------------------------------------------


@dataclass
class MetricLine:
    """One metric on a trust page: the trust's value and score against its peers."""

    definition: MetricDefinition
    result: MetricResult | None
    peer: MetricPeerStatistics | None
    room: float | None = None  # score points above the best score (1.00) for a counted metric
    coverage: Coverage = Coverage.REPORTED
    not_applicable_text: str = ""  # why, when the metric does not measure the trust's subtype

    @property
    def metric(self) -> Any:
        return self.definition.metric

    @property
    def applicable(self) -> bool:
        return self.coverage != Coverage.NOT_APPLICABLE


@dataclass
class DomainBlock:
    domain: Domain
    score: float | None
    lines: list[MetricLine] = field(default_factory=list)
    segment: int | None = None
    thresholds: DomainThresholdsUsed | None = None

    @property
    def scored(self) -> int:
        """The counted metric scores the domain score is the mean of."""
        return sum(
            1
            for line in self.lines
            if line.definition.counted and line.result and line.result.score is not None
        )

    @property
    def measured(self) -> int:
        """The counted metrics that apply to the trust: scored, or not reported."""
        return sum(1 for line in self.lines if line.definition.counted and line.applicable)


@dataclass
class ContextLine:
    measure: ContextMeasure
    peer_median: Decimal | None
    peers_reporting: int


@dataclass
class SegmentStep:
    """What would move the trust up one segment."""

    target_segment: int | None
    needed_average: Decimal | None
    current_average: Decimal | None
    blocked_reason: str
    metrics_with_most_room: list[MetricLine]
    points_needed: Decimal | None = None


@dataclass
class TrustPage:
    trust: Trust
    release: Release | None
    result: TrustResult | None
    domains: list[DomainBlock]
    patient_experience: list[MetricLine]
    history: list[TrustResult]
    withdrawn: list[Release]
    corrections: list[Release]
    context: list[ContextLine]
    step: SegmentStep | None
    peers_ranked: int
    # Trusts ranked by each release of the history, and the peer group's context measures.
    peers_by_release: dict[int, int] = field(default_factory=dict)
    peer_measures: list[ContextMeasure] = field(default_factory=list)
    # The trusts every peer median on the page is taken over (peer_trust_ids), unevaluated.
    peers: QuerySet | None = None


def trust_or_404(ods_code: str) -> Trust:
    trust = (
        Trust.objects.select_related("region", "peer_group", "successor")
        .filter(ods_code__iexact=ods_code)
        .first()
    )
    if trust is None:
        raise Http404("No trust with this ODS code.")
    return trust


def peer_trust_ids(trust: Trust, release: Release | None) -> QuerySet:
    """The trusts a trust's context figures are set beside: those of the league table it was
    last published in, so each peer median counts the trusts its rank is counted among (not a
    trust that has joined the peer group since, or left it). A trust in no published table is
    set beside its peer group as it is now. A subquery: no query of its own."""
    if release is not None:
        return TrustResult.objects.filter(release=release).values("trust_id")
    return Trust.objects.filter(peer_group_id=trust.peer_group_id).values("pk")


def trust_page(trust: Trust) -> TrustPage:
    """Everything the trust page shows, in a fixed number of queries."""
    history = list(
        TrustResult.objects.filter(trust=trust, release__status=Release.Status.PUBLISHED)
        .select_related("release", "release__quarter", "release__framework", "release__peer_group")
        .order_by("-release__quarter__year_start", "-release__quarter__number")
    )
    peers_by_release = dict(
        TrustResult.objects.filter(
            release_id__in=[row.release_id for row in history], rank__isnull=False
        )
        .values("release_id")
        .annotate(count=Count("pk"))
        .values_list("release_id", "count")
    )
    result = history[0] if history else None
    release = result.release if result else None
    peers = peer_trust_ids(trust, release)
    peer_measures = list(ContextMeasure.objects.filter(trust_id__in=peers))
    withdrawn = list(
        visible_releases()
        .filter(peer_group_id=trust.peer_group_id, status=Release.Status.WITHDRAWN)
        .order_by("-quarter__year_start", "-quarter__number", "-revision")
    )
    corrections = list(
        Release.objects.filter(
            peer_group_id=trust.peer_group_id,
            status=Release.Status.PUBLISHED,
            supersedes__isnull=False,
        )
        .exclude(correction_note="")
        .select_related("quarter", "supersedes")
        .order_by("-quarter__year_start", "-quarter__number")
    )
    domains: list[DomainBlock] = []
    patient_experience: list[MetricLine] = []
    step = None
    peers_ranked = 0
    if release is not None and result is not None:
        # Metrics no trust reported in this release are left out (releases.applicability).
        definitions = applicability.release_metrics(release).shown
        results = {
            r.metric_id: r for r in MetricResult.objects.filter(release=release, trust=trust)
        }
        statistics = {s.metric_id: s for s in MetricPeerStatistics.objects.filter(release=release)}
        peers_ranked = peers_by_release.get(release.pk, 0)
        blocks: dict[int, DomainBlock] = {}
        for definition in definitions:
            line = MetricLine(
                definition, results.get(definition.metric_id), statistics.get(definition.metric_id)
            )
            line.coverage = applicability.coverage(
                definition, result.trust_subtype, line.result is not None
            )
            if not line.applicable:
                line.not_applicable_text = applicability.not_applicable_text(
                    definition, result.trust_subtype
                )
            if definition.counted and line.result is not None and line.result.score is not None:
                line.room = float(line.result.score) - 1.0
            block = blocks.get(definition.domain_id)
            if block is None:
                slug = definition.domain.slug
                block = blocks[definition.domain_id] = DomainBlock(
                    definition.domain,
                    result.domain_scores.get(slug),
                    segment=result.domain_segments.get(slug),
                )
            block.lines.append(line)
            if definition.metric.is_patient_experience:
                patient_experience.append(line)
        domains = list(blocks.values())
        used = thresholds_by_domain(release, [block.domain for block in domains])
        for block, thresholds in zip(domains, used, strict=True):
            block.thresholds = thresholds
        step = segment_step(release, result, [line for b in domains for line in b.lines])
    return TrustPage(
        trust=trust,
        release=release,
        result=result,
        domains=domains,
        patient_experience=patient_experience,
        history=history,
        withdrawn=withdrawn,
        corrections=corrections,
        context=context_lines(trust, peer_measures),
        step=step,
        peers_ranked=peers_ranked,
        peers_by_release=peers_by_release,
        peer_measures=peer_measures,
        peers=peers,
    )


def segment_step(
    release: Release, result: TrustResult | None, lines: list[MetricLine]
) -> SegmentStep | None:
    """The average a trust needs for the next segment up, and where it has most room."""
    if result is None or result.segment is None or result.average_exact is None:
        return None
    thresholds = [release.t1, release.t2, release.t3]
    most_room = sorted(
        (line for line in lines if line.room is not None and line.room > 0),
        key=lambda line: line.room or 0,
        reverse=True,
    )[:3]
    current = result.average_score
    if result.in_recovery_support:
        return SegmentStep(
            None,
            None,
            current,
            "The trust is in the Recovery Support Programme (segment 5), which regulators "
            "decide on; its score alone cannot move it.",
            most_room,
        )
    unadjusted = result.unadjusted_segment or result.segment
    if result.in_financial_deficit and unadjusted <= 3:
        return SegmentStep(
            None,
            None,
            current,
            "The trust is in financial deficit, which holds it in segment 3 or below whatever "
            "its average; leaving deficit would let its average decide.",
            most_room,
        )
    if unadjusted <= 1:
        return SegmentStep(None, None, current, "The trust is already in segment 1.", most_room)
    needed = thresholds[unadjusted - 2]
    if needed is None:
        return None
    needed = Decimal(needed).quantize(Decimal("0.001")).normalize()
    points = None
    if result.metrics_scored:
        excess = Decimal(repr(result.average_exact)) - Decimal(needed)
        points = (excess * result.metrics_scored).quantize(Decimal("0.01"))
    return SegmentStep(unadjusted - 1, needed, current, "", most_room, points)


def context_lines(trust: Trust, peer_measures: list[ContextMeasure]) -> list[ContextLine]:
    """The trust's estates measures (ERIC) beside the median of its peer group.

    `peer_measures` are the peer group's measures (the trust's own among them). The A&E
    attendances the sitrep adds are shown in the context block, not here.
    """
    estates = [m for m in peer_measures if m.key != AE_ATTENDANCES_KEY]
    measures = sorted(
        (m for m in estates if m.trust_id == trust.pk),
        key=lambda m: m.key,
    )
    if not measures:
        return []
    latest_year = max(m.year for m in measures)
    measures = [m for m in measures if m.year == latest_year]
    peer_values: dict[str, list[Decimal]] = defaultdict(list)
    for measure in estates:
        if measure.year == latest_year and measure.value is not None:
            peer_values[measure.key].append(measure.value)
    return [
        ContextLine(
            measure,
            statistics.median(peer_values[measure.key]) if peer_values[measure.key] else None,
            len(peer_values[measure.key]),
        )
        for measure in measures
    ]


def public_support(trust: Trust) -> Any | None:
    """The trust's public support level and freedoms (interventions app), if any are public."""
    try:
        from interventions.selectors import public_support_for
    except ImportError:  # the interventions app is optional to the public site
        return None
    support = public_support_for([trust.pk]).get(trust.pk)
    if support is None or not support.has_any:
        return None
    return support


# Compare ------------------------------------------------------------------------------------


def parse_trust_codes(text: str) -> list[str]:
    """ODS codes as people type them: separated by commas, spaces or both, any case."""
    codes: list[str] = []
    for code in (part.upper() for part in re.split(r"[\s,;]+", text)):
        if code and code not in codes:
            codes.append(code)
    return codes


@dataclass
class ComparedTrust:
    trust: Trust
    result: TrustResult | None
    metric_results: dict[str, MetricResult]


@dataclass
class ComparedMetric:
    """One trust's cell in a metric's row: its result, or why it has none. No coverage: the
    metric is not in the table the trust's latest result is from (or it has no result)."""

    result: MetricResult | None
    coverage: Coverage | None
    not_applicable_text: str = ""


@dataclass
class Comparison:
    trusts: list[ComparedTrust]
    metric_rows: list[tuple[MetricDefinition, list[ComparedMetric]]]
    unknown: list[str]
    # Known trusts past the first four, in the order asked: compared on another page.
    left_out: list[str] = field(default_factory=list)


def compare(codes: list[str]) -> Comparison:
    """Up to four trusts' latest published results side by side: the first four codes that
    name a trust, so a mistyped code neither takes a place nor pushes a real trust out."""
    trusts = {
        t.ods_code.upper(): t
        for t in Trust.objects.filter(ods_code__in=codes).select_related("region", "peer_group")
    }
    unknown = [c for c in codes if c not in trusts]
    known = [c for c in codes if c in trusts]
    left_out = known[MAX_COMPARED_TRUSTS:]
    ordered = [trusts[c] for c in known[:MAX_COMPARED_TRUSTS]]
    latest: dict[int, TrustResult] = {}
    for row in (
        TrustResult.objects.filter(trust__in=ordered, release__status=Release.Status.PUBLISHED)
        .select_related("release", "release__quarter", "release__peer_group")
        .order_by("-release__quarter__year_start", "-release__quarter__number")
    ):
        latest.setdefault(row.trust_id, row)
    release_ids = {row.release_id for row in latest.values()}
    framework_ids = {row.release.framework_id for row in latest.values()}
    by_trust: dict[int, dict[str, MetricResult]] = defaultdict(dict)
    for mr in MetricResult.objects.filter(
        release_id__in=release_ids, trust__in=ordered
    ).select_related("metric"):
        if latest.get(mr.trust_id) and latest[mr.trust_id].release_id == mr.release_id:
            by_trust[mr.trust_id][mr.metric.code] = mr
    synthetic = synthetic_values_of({row.release for row in latest.values()})
    for results in by_trust.values():
        for result in results.values():
            result.is_synthetic = synthetic[result.release_id].result(
                result.trust_id, result.metric_id
            )
    for row in latest.values():
        row.synthetic = synthetic[row.release_id].row(row.trust_id)
    compared = [ComparedTrust(t, latest.get(t.pk), by_trust.get(t.pk, {})) for t in ordered]
    definitions = list(
        MetricDefinition.objects.filter(framework_id__in=framework_ids)
        .select_related("metric", "domain")
        .order_by("domain__display_order", "display_order", "metric__code")
    )
    # Each trust's cells follow its own table: its framework's definition, and whether that
    # release has data for the metric at all (releases.applicability).
    own_definitions = {(d.framework_id, d.metric.code): d for d in definitions}
    with_data = applicability.metrics_with_data(release_ids)
    seen: set[str] = set()
    metric_rows = []
    for definition in definitions:
        code = definition.metric.code
        if code in seen:
            continue
        seen.add(code)
        cells = [_compared_metric(c, code, own_definitions, with_data) for c in compared]
        if any(cell.coverage is not None for cell in cells):
            metric_rows.append((definition, cells))
    return Comparison(compared, metric_rows, unknown, left_out)


def _compared_metric(
    compared: ComparedTrust,
    code: str,
    definitions: dict[tuple[int, str], MetricDefinition],
    with_data: dict[int, set[int]],
) -> ComparedMetric:
    row = compared.result
    definition = definitions.get((row.release.framework_id, code)) if row else None
    if row is None or definition is None or definition.metric_id not in with_data[row.release_id]:
        return ComparedMetric(None, None)
    result = compared.metric_results.get(code)
    cell = ComparedMetric(
        result, applicability.coverage(definition, row.trust_subtype, result is not None)
    )
    if cell.coverage == Coverage.NOT_APPLICABLE:
        cell.not_applicable_text = applicability.not_applicable_text(definition, row.trust_subtype)
    return cell


# Domain view of a league table --------------------------------------------------------------


@dataclass
class DomainCell:
    thresholds: DomainThresholdsUsed
    score: float | None
    segment: int | None


@dataclass
class DomainGridRow:
    result: TrustResult
    cells: list[DomainCell]


@dataclass
class DomainGrid:
    """Trust x domain: each trust's segment and score in every domain of the framework."""

    columns: list[DomainThresholdsUsed]
    rows: list[DomainGridRow]


def domain_grid(release: Release) -> DomainGrid:
    """The release's rows in league order, with their domain segments, in two queries."""
    columns = thresholds_by_domain(
        release, list(Domain.objects.filter(framework_id=release.framework_id))
    )
    results = (
        TrustResult.objects.filter(release=release)
        .select_related("trust")
        .order_by(F("rank").asc(nulls_last=True), "trust_name")
    )
    rows = [
        DomainGridRow(
            result,
            [
                DomainCell(
                    column,
                    result.domain_scores.get(column.domain.slug),
                    result.domain_segments.get(column.domain.slug),
                )
                for column in columns
            ],
        )
        for result in results
    ]
    return DomainGrid(columns, rows)


# Methodology --------------------------------------------------------------------------------


@dataclass
class FrameworkMethod:
    framework: Framework
    domains: list[tuple[Domain, list[MetricDefinition]]]
    releases: list[Release]
    thresholds: dict[int, Thresholds]


def methodology() -> list[FrameworkMethod]:
    """Frameworks with at least one visible release, with what each release was computed with.

    Thresholds are taken from the releases themselves (what was computed), never from
    frameworks' rows for quarters not yet published.
    """
    releases = list(
        Release.objects.readable()
        .select_related("quarter", "peer_group", "framework")
        .order_by("peer_group__display_order", "quarter__year_start", "quarter__number", "revision")
    )
    framework_ids = {r.framework_id for r in releases}
    frameworks = (
        Framework.objects.filter(pk__in=framework_ids)
        .with_method()
        .prefetch_related(
            Prefetch("thresholds", queryset=Thresholds.objects.select_related("quarter"))
        )
        .order_by("peer_group__display_order", "slug", "version")
    )
    with_data = applicability.metrics_with_data(r.pk for r in releases)
    methods = []
    for framework in frameworks:
        definitions = [d for domain in framework.domains.all() for d in domain.definitions.all()]
        for release in releases:
            if release.framework_id == framework.pk:
                # Metrics left out of that quarter's table: no trust reported them.
                release.metrics_without_data = [
                    d.metric for d in definitions if d.metric_id not in with_data[release.pk]
                ]
        methods.append(
            FrameworkMethod(
                framework=framework,
                domains=[
                    (domain, list(domain.definitions.all())) for domain in framework.domains.all()
                ],
                releases=[r for r in releases if r.framework_id == framework.pk],
                thresholds={t.quarter_id: t for t in framework.thresholds.all()},
            )
        )
    return methods


# Lists --------------------------------------------------------------------------------------


def trusts_with_published_results() -> QuerySet[Trust]:
    return (
        Trust.objects.filter(results__release__status=Release.Status.PUBLISHED)
        .select_related("region", "peer_group")
        .distinct()
        .order_by("name")
    )


def peer_groups() -> list[PeerGroup]:
    return list(PeerGroup.objects.all())


def quarters() -> list[Quarter]:
    return list(Quarter.objects.all())
