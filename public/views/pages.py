"""The public pages: server-rendered with the NHS.UK design system, working without JavaScript.

Views only read through `public.selectors` (the visibility rule lives there) and are cached
per publication generation (`public.caching`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from csp.constants import UNSAFE_INLINE
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from metrics.models import MetricDefinition
from public import selectors, trust_context
from public.caching import cached_public
from public.exports import plain
from public.figures import shown_quantity, threshold_note
from public.filtersets import DEFAULT_SORT, SORTS, LeagueTableFilterSet
from public.peers import learning_from_peers
from public.search import found_elsewhere, matching_trust_ids
from public.uncertainty import possible_segments
from public.views.methods import read_only
from releases.applicability import subtype_trusts
from releases.engine.bootstrap import LIKELY_RANGE_PERCENTILES
from releases.engine.segments import SEGMENT_FINANCIAL_OVERRIDE, SEGMENT_RECOVERY_SUPPORT
from releases.models import Release, TrustResult
from releases.selectors import thresholds_by_domain
from releases.synthetic import synthetic_values, synthetic_values_of

# What a segment means, in plain words (NHS Oversight Framework 2025/26).
SEGMENT_MEANINGS = {
    1: "High performing: consistently strong results across the framework; the trust may be "
    "given more freedom to run its own affairs.",
    2: "Good: solid results with some areas to improve.",
    3: "Some significant issues: results below average in a number of areas, or in financial "
    "deficit (a trust in deficit cannot be placed above segment "
    f"{SEGMENT_FINANCIAL_OVERRIDE}).",
    4: "Serious issues: among the lowest results in its peer group; regulators offer targeted "
    "support.",
    SEGMENT_RECOVERY_SUPPORT: "Intensive support: the trust is in the Recovery Support "
    "Programme, whatever its score.",
}
SCORE_LOW, SCORE_HIGH = 1.0, 4.0
DOWNLOADS = [
    ("league-table.csv", "NHS England league table format (CSV)"),
    (
        "trust-data.csv",
        "NHS England trust data file format: every metric, domain score and segment (CSV)",
    ),
    ("data.csv", "All metric values and scores, long format (CSV)"),
    ("league-table.xlsx", "Spreadsheet with a metadata sheet (XLSX)"),
    ("league-table.json", "League table and metric data (JSON)"),
    ("metadata.json", "What the files contain: release, units, licence (JSON)"),
]


@dataclass
class Interval:
    """A likely range drawn on a 0-100 scale (SVG units), with the point estimate and, for an
    average score, the segment thresholds marked on the same scale."""

    low: float
    high: float
    point: float
    marks: list[float] = field(default_factory=list)

    @property
    def width(self) -> float:
        return max(self.high - self.low, 0.8)


def interval(
    low: Any, high: Any, point: Any, scale_low: float, scale_high: float
) -> Interval | None:
    if low is None or high is None or point is None:
        return None
    span = (scale_high - scale_low) or 1.0

    def position(value: Any) -> float:
        return round(min(max((float(value) - scale_low) / span, 0.0), 1.0) * 100, 2)

    return Interval(position(low), position(high), position(point))


def threshold_marks(release: Release) -> list[float]:
    """Where the release's segment thresholds fall on the average-score drawing (0-100)."""
    span = SCORE_HIGH - SCORE_LOW
    return [
        round((float(t) - SCORE_LOW) / span * 100, 2)
        for t in (release.t1, release.t2, release.t3)
        if t is not None and SCORE_LOW <= float(t) <= SCORE_HIGH
    ]


def average_interval(row: Any, release: Release) -> Interval | None:
    """A row's average score and its likely range, with the segment thresholds marked."""
    drawn = interval(row.average_low, row.average_high, row.average_score, SCORE_LOW, SCORE_HIGH)
    if drawn is not None:
        drawn.marks = threshold_marks(release)
    return drawn


@dataclass
class DomainScale:
    """A domain score on the 1.00 to 4.00 scale (0 to 100 in SVG units): the four segments
    its thresholds mark out, the thresholds themselves and the score."""

    bands: list[tuple[float, float, int]]  # x, width, segment
    ticks: list[float]
    point: float | None


def domain_scale(score: float | None, thresholds: Any) -> DomainScale | None:
    """The drawing beside a domain score; none until the thresholds are known."""
    values = thresholds.values if thresholds is not None else None
    if values is None:
        return None

    def position(value: Any) -> float:
        share = (float(value) - SCORE_LOW) / (SCORE_HIGH - SCORE_LOW)
        return round(min(max(share, 0.0), 1.0) * 100, 2)

    edges = [0.0, *(position(t) for t in values), 100.0]
    bands = [(edges[i], round(edges[i + 1] - edges[i], 2), i + 1) for i in range(len(edges) - 1)]
    return DomainScale(bands, edges[1:-1], None if score is None else position(score))


def average_note(row: Any, release: Release) -> str:
    """public.figures.threshold_note for a row's average against its release's thresholds."""
    if row is None:
        return ""
    return threshold_note(row.average_exact, (release.t1, release.t2, release.t3))


def segment_meanings() -> list[tuple[int, str]]:
    return sorted(SEGMENT_MEANINGS.items())


def withdrawn_notice(request: HttpRequest, release: Release) -> HttpResponse:
    return render(request, "public/withdrawn.html", {"release": release}, status=410)


@read_only
@cached_public
def home(request: HttpRequest) -> HttpResponse:
    tables = []
    latest = selectors.latest_published_by_peer_group()
    synthetic = synthetic_values_of(latest)
    for release in latest:
        rows = list(
            TrustResult.objects.filter(release=release)
            .select_related("trust")
            .order_by("rank", "trust_name")
        )
        counts = {n: 0 for n in SEGMENT_MEANINGS}
        for row in rows:
            row.threshold_note = average_note(row, release)
            if row.segment in counts:
                counts[row.segment] += 1
        tables.append(
            {
                "release": release,
                "rows": rows,
                "segment_counts": sorted(counts.items()),
                "synthetic": synthetic[release.pk].release,
            }
        )
    return render(
        request,
        "public/home.html",
        {"tables": tables, "segment_meanings": segment_meanings()},
    )


# How the error summary names a filter it could not use.
FILTER_NAMES = {
    "q": "Search",
    "region": "Region",
    "subtype": "Subtype",
    "segment": "Segment",
    "segment_uncertain": "Segment uncertain",
    "deficit": "Financial deficit",
    "sort": "Sort",
}


def _sort_links(query: QueryDict, current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the link that sorts by it (reversing if it is the current)."""
    links = {}
    for key in SORTS:
        ascending = current == key
        target = f"-{key}" if ascending else key
        params = query.copy()
        params["sort"] = target
        params.pop("page", None)
        state = "none"
        if current == key:
            state = "ascending"
        elif current == f"-{key}":
            state = "descending"
        links[key] = {"href": f"?{params.urlencode()}", "aria_sort": state}
    return links


@read_only
@cached_public
def league_table(
    request: HttpRequest, peer_group: str, quarter: str, revision: int | None = None
) -> HttpResponse:
    try:
        release = selectors.release_at(peer_group, quarter, revision)
    except selectors.ReleaseWithdrawn as withdrawn:
        return withdrawn_notice(request, withdrawn.release)
    previous = Release.objects.published().previous_of(release)
    filterset = LeagueTableFilterSet(
        request.GET, queryset=selectors.league_table_rows(release, previous)
    )
    rows = list(filterset.qs)
    totals = TrustResult.objects.filter(release=release).aggregate(
        trusts=Count("pk"), ranks=Max("rank_high")
    )
    most_rank = max(totals["ranks"] or 1, totals["trusts"] or 1, 2)
    synthetic = synthetic_values(release)
    for row in rows:
        row.synthetic = synthetic.row(row.trust_id)
        row.rank_interval = interval(row.rank_low, row.rank_high, row.rank, 1, most_rank)
        row.average_interval = average_interval(row, release)
        row.possible_segments = possible_segments(row, release)
        row.threshold_note = average_note(row, release)
    revisions = list(
        selectors.visible_releases()
        .filter(peer_group_id=release.peer_group_id, quarter_id=release.quarter_id)
        .order_by("-revision")
    )
    current_sort = filterset.current_sort
    filters_applied = any(
        request.GET.get(name)
        for name in ("q", "region", "subtype", "segment", "segment_uncertain", "deficit")
    )
    regions = selectors.regions()
    form_errors = dict(filterset.form.errors) if filterset.is_bound else {}
    region = request.GET.get("region", "")
    if region and region not in {r.slug for r in regions}:
        # The API filters an unknown region to nothing; the page also says it is unknown.
        form_errors["region"] = ["Choose one of the regions listed."]
    context = {
        "release": release,
        "previous": previous,
        "rows": rows,
        "total_trusts": totals["trusts"],
        "filterset": filterset,
        "form_errors": form_errors,
        "form_error_items": [
            (name, FILTER_NAMES.get(name, name), error)
            for name, errors in form_errors.items()
            for error in errors
        ],
        "regions": regions,
        "subtypes": selectors.subtypes_of(release),
        "segments": [str(n) for n in SEGMENT_MEANINGS],
        "sorts": SORTS,
        "sort_links": _sort_links(request.GET, current_sort),
        "current_sort": current_sort,
        "default_sort": DEFAULT_SORT,
        "selected": {
            name: request.GET.get(name, "")
            for name in ("q", "region", "subtype", "segment", "segment_uncertain", "deficit")
        },
        "uncertain_count": sum(1 for row in rows if len(row.possible_segments) > 1),
        "elsewhere": found_elsewhere(request.GET.get("q", ""), release)
        if request.GET.get("q", "").strip()
        else [],
        "filters_applied": filters_applied,
        "revisions": revisions,
        "is_current": release.status == Release.Status.PUBLISHED,
        "synthetic": synthetic.release,
        "downloads": [(name, label, _download_url(release, name)) for name, label in DOWNLOADS],
        "segment_meanings": segment_meanings(),
        "most_rank": most_rank,
        "percentiles": LIKELY_RANGE_PERCENTILES,
        "thresholds": [plain(t) for t in (release.t1, release.t2, release.t3)],
        "domains_url": domains_url(release),
    }
    return render(request, "public/league_table.html", context)


@read_only
@cached_public
def league_table_domains(
    request: HttpRequest, peer_group: str, quarter: str, revision: int | None = None
) -> HttpResponse:
    """The domain view of a league table: every trust's segment in every domain."""
    try:
        release = selectors.release_at(peer_group, quarter, revision)
    except selectors.ReleaseWithdrawn as withdrawn:
        return withdrawn_notice(request, withdrawn.release)
    grid = selectors.domain_grid(release)
    synthetic = synthetic_values(release)
    for row in grid.rows:
        row.synthetic = synthetic.row(row.result.trust_id)
        for cell in row.cells:
            cell.threshold_note = threshold_note(cell.score, cell.thresholds.values)
    return render(
        request,
        "public/league_table_domains.html",
        {
            "release": release,
            "grid": grid,
            "is_current": release.status == Release.Status.PUBLISHED,
            "table_url": revision_url(release),
            "synthetic": synthetic.release,
            "data_file_url": _download_url(release, "trust-data.csv"),
            "segment_meanings": [(n, SEGMENT_MEANINGS[n]) for n in range(1, 5)],
        },
    )


def domains_url(release: Release) -> str:
    kwargs: dict[str, Any] = {
        "peer_group": release.peer_group.slug,
        "quarter": release.quarter.slug,
    }
    if release.status == Release.Status.PUBLISHED:
        return reverse("public:league-table-domains", kwargs=kwargs)
    return reverse(
        "public:league-table-domains-revision", kwargs={**kwargs, "revision": release.revision}
    )


def _download_url(release: Release, name: str) -> str:
    kwargs: dict[str, Any] = {
        "peer_group": release.peer_group.slug,
        "quarter": release.quarter.slug,
        "filename": name,
    }
    if release.status == Release.Status.PUBLISHED:
        return reverse("public:download", kwargs=kwargs)
    return reverse("public:download-revision", kwargs={**kwargs, "revision": release.revision})


def revision_url(release: Release) -> str:
    if release.status == Release.Status.PUBLISHED:
        return release.get_absolute_url()
    return reverse(
        "public:league-table-revision",
        kwargs={
            "peer_group": release.peer_group.slug,
            "quarter": release.quarter.slug,
            "revision": release.revision,
        },
    )


@dataclass
class HistoryPoint:
    row: TrustResult
    x: float
    y: float
    range_top: float | None = None
    range_bottom: float | None = None


CHART_WIDTH, CHART_HEIGHT = 600, 280
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 70, 40, 24, 70


def ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def history_chart(history: list[TrustResult], peers: dict[int, int]) -> dict[str, Any] | None:
    """Rank by quarter, oldest first, in SVG pixels: the axis runs from 1 (top) to the number
    of trusts ranked, so 8th of 61 is drawn near the top, with each quarter's likely range as a
    bar and its segment written under it."""
    points = [row for row in reversed(history) if row.rank is not None]
    if not points:
        return None
    most = max([peers.get(row.release_id, 0) for row in points] + [2])
    width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    step = width / max(len(points) - 1, 1)

    def y(rank: int) -> float:
        return round(CHART_TOP + (min(rank, most) - 1) / (most - 1) * height, 1)

    plotted = []
    for i, row in enumerate(points):
        point = HistoryPoint(
            row, round(CHART_LEFT + (i * step if len(points) > 1 else width / 2), 1), y(row.rank)
        )
        if row.rank_low and row.rank_high:
            point.range_top, point.range_bottom = y(row.rank_low), y(row.rank_high)
        plotted.append(point)
    middle = (most + 1) // 2
    return {
        "points": plotted,
        "polyline": " ".join(f"{p.x},{p.y}" for p in plotted),
        "most": most,
        "most_label": ordinal(most),
        "middle_label": ordinal(middle),
        "middle_y": y(middle),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "top": CHART_TOP,
        "bottom": CHART_TOP + height,
        "label_y": CHART_TOP + height + 24,
        "segment_y": CHART_TOP + height + 48,
    }


@read_only
@cached_public
def trust(request: HttpRequest, ods_code: str) -> HttpResponse:
    trust_ = selectors.trust_or_404(ods_code)
    page = selectors.trust_page(trust_)
    synthetic = synthetic_values_of(row.release for row in page.history)
    current = synthetic.get(page.release.pk) if page.release else None
    for block in page.domains:
        for line in block.lines:
            unit = line.metric.unit
            line.synthetic = bool(
                current and line.result and current.result(trust_.pk, line.definition.metric_id)
            )
            line.value_display = shown_quantity(line.result.value, unit) if line.result else ""
            line.median_display = shown_quantity(line.peer.median, unit) if line.peer else ""
            if line.peer and line.peer.lower_quartile is not None:
                line.quartiles_display = (
                    f"{shown_quantity(line.peer.lower_quartile, unit)} to "
                    f"{shown_quantity(line.peer.upper_quartile, unit)}"
                )
    for block in page.domains:
        block.scale = domain_scale(block.score, block.thresholds)
        block.threshold_note = threshold_note(
            block.score, block.thresholds.values if block.thresholds else None
        )
    for line in page.context:
        line.value_display = shown_quantity(line.measure.value, line.measure.unit)
        line.median_display = shown_quantity(line.peer_median, line.measure.unit)
    peers = page.peers_by_release
    for row in page.history:
        row.synthetic = synthetic[row.release_id].row(trust_.pk)
        row.possible_segments = possible_segments(row, row.release)
        row.peers_ranked = peers.get(row.release_id)
    lessons = learning_from_peers(
        trust_, page.release, [line for block in page.domains for line in block.lines]
    )
    for lesson in lessons:
        for exemplar in lesson.exemplars:
            exemplar.value_display = shown_quantity(exemplar.result.value, lesson.line.metric.unit)
            exemplar.synthetic = bool(
                current and current.result(exemplar.trust.pk, lesson.line.definition.metric_id)
            )
    feedback = trust_context.patient_feedback(trust_, page.peers)
    result = page.result
    context = {
        "trust": trust_,
        "page": page,
        "feedback": feedback,
        "lessons": lessons,
        "facts": trust_context.context_facts(trust_, feedback, page.peer_measures),
        "survey_reports_url": trust_context.SURVEY_BENCHMARKS_URL,
        "result": result,
        "release": page.release,
        "synthetic": bool(current and current.release),
        "synthetic_row": bool(result and current and current.row(trust_.pk)),
        "rank_interval": interval(
            result.rank_low, result.rank_high, result.rank, 1, max(page.peers_ranked, 2)
        )
        if result
        else None,
        "average_interval": average_interval(result, page.release) if result else None,
        "possible_segments": possible_segments(result, page.release) if result else [],
        "threshold_note": average_note(result, page.release),
        "chart": history_chart(page.history, peers),
        "support": selectors.public_support(trust_),
        "segment_meanings": dict(SEGMENT_MEANINGS),
        "release_url": revision_url(page.release) if page.release else "",
        "domains_url": domains_url(page.release) if page.release else "",
    }
    return render(request, "public/trust.html", context)


@read_only
@cached_public
def trust_index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    trusts = selectors.trusts_with_published_results()
    if query:
        trusts = trusts.filter(pk__in=matching_trust_ids(query))
    groups: dict[str, list[Any]] = {}
    for trust_ in trusts:
        groups.setdefault(trust_.peer_group.name, []).append(trust_)
    return render(request, "public/trust_index.html", {"groups": groups, "query": query})


@read_only
@cached_public
def compare(request: HttpRequest) -> HttpResponse:
    # A repeated parameter (?trusts=RYY&trusts=RXT, as a form or a script may send) adds its
    # codes: every one is read, none silently replaced by the last.
    text = ", ".join(part.strip() for part in request.GET.getlist("trusts") if part.strip())
    codes = selectors.parse_trust_codes(text)
    comparison = selectors.compare(codes) if codes else None
    dropped = comparison.left_out if comparison else []
    if comparison:
        for compared in comparison.trusts:
            row = compared.result
            compared.average_interval = average_interval(row, row.release) if row else None
            compared.threshold_note = average_note(row, row.release) if row else ""
    return render(
        request,
        "public/compare.html",
        {
            "text": text,
            "comparison": comparison,
            "dropped": dropped,
            "max_trusts": selectors.MAX_COMPARED_TRUSTS,
            "segment_meanings": dict(SEGMENT_MEANINGS),
        },
    )


def describe_rule(definition: MetricDefinition) -> str:
    """How one metric is scored, written out from its stored parameters."""
    params = definition.params or {}
    method = definition.method
    if method == MetricDefinition.Method.RANKED:
        pool = (
            "all trusts nationally that report it"
            if definition.pool == MetricDefinition.Pool.NATIONAL
            else "the trusts of the peer group that report it"
        )
        return (
            f"Ranked over {pool}: score = 1 + 3 × (rank − 1) / (N − 1), rank 1 being the best "
            f"({definition.metric.get_direction_display().lower()}); ties share the best rank."
        )
    if method == MetricDefinition.Method.BANDED:
        parts = []
        for band in params.get("bands", []):
            if band.get("min") is None:
                parts.append(f"otherwise {band['score']}")
            else:
                parts.append(f"at least {_signed(band['min'])} → {band['score']}")
        return "Banded on the value: " + "; ".join(parts) + "."
    if method == MetricDefinition.Method.LOOKUP:
        inputs = ", ".join(params.get("inputs", []))
        table = params.get("table", {})
        pairs = "; ".join(f"({key}) → {value}" for key, value in sorted(table.items()))
        return (
            f"Looked up from the scores of {inputs}: {pairs}. Any other combination is not "
            "set, and a release needing it is not computed."
        )
    if method == MetricDefinition.Method.CATEGORICAL:
        categories = params.get("categories", {})
        pairs = "; ".join(f"{name} → {score}" for name, score in categories.items())
        return f"A rating mapped to a score: {pairs}."
    return "The score published with the data is used as given."


def describe_applicability(definition: MetricDefinition) -> str:
    """Which trusts a metric measures, in a sentence (releases.applicability)."""
    subtypes = definition.applies_to_subtypes
    if not subtypes:
        return "Every trust."
    named = [subtype_trusts(subtype) for subtype in subtypes]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    note = definition.not_applicable_note.strip().rstrip(".")
    return (
        f"{listed[0].upper()}{listed[1:]}{f' ({note})' if note else ''}. Other trusts are not "
        "measured on it (not applicable) unless they report it."
    )


def _signed(value: Any) -> str:
    number = Decimal(str(value))
    return f"−{abs(number)}" if number < 0 else str(number)


@read_only
@cached_public
def methodology(request: HttpRequest) -> HttpResponse:
    methods = selectors.methodology()
    synthetic = synthetic_values_of(release for method in methods for release in method.releases)
    for method in methods:
        # A metric is marked where any table computed with this framework has synthetic values
        # of it (or scores computed from them).
        marked = {
            metric_id for release in method.releases for metric_id in synthetic[release.pk].metrics
        }
        for _, definitions in method.domains:
            for definition in definitions:
                definition.rule_text = describe_rule(definition)
                definition.synthetic = definition.metric_id in marked
                definition.applies_text = describe_applicability(definition)
        for release in method.releases:
            release.framework_thresholds = method.thresholds.get(release.quarter_id)
            release.t1_display, release.t2_display, release.t3_display = (
                plain(release.t1),
                plain(release.t2),
                plain(release.t3),
            )
            release.public_url = revision_url(release)
            release.domain_thresholds_used = thresholds_by_domain(
                release, [domain for domain, _ in method.domains]
            )
    return render(
        request,
        "public/methodology.html",
        {
            "methods": methods,
            "segment_meanings": segment_meanings(),
            "financial_override": SEGMENT_FINANCIAL_OVERRIDE,
            "recovery_segment": SEGMENT_RECOVERY_SUPPORT,
            "percentiles": LIKELY_RANGE_PERCENTILES,
        },
    )


@read_only
@cached_public
def releases(request: HttpRequest) -> HttpResponse:
    listed = list(
        selectors.visible_releases().order_by(
            "-quarter__year_start", "-quarter__number", "peer_group__display_order", "-revision"
        )
    )
    # "Current" is each peer group's latest published table; older quarters are "Published".
    current = {release.pk for release in selectors.latest_published_by_peer_group()}
    synthetic = synthetic_values_of(
        release for release in listed if release.status != Release.Status.WITHDRAWN
    )
    for release in listed:
        release.synthetic = release.pk in synthetic and synthetic[release.pk].release
        release.is_current = release.pk in current
        release.public_url = revision_url(release)
        if release.status != Release.Status.WITHDRAWN:
            release.downloads = [
                (name, label, _download_url(release, name)) for name, label in DOWNLOADS
            ]
    return render(request, "public/releases.html", {"releases": listed})


@read_only
@cached_public
def sitemap(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/").rstrip("/")
    urls = [
        reverse("public:home"),
        reverse("public:trust-index"),
        reverse("public:methodology"),
        reverse("public:releases"),
        reverse("public:compare"),
    ]
    for release in selectors.visible_releases().exclude(status=Release.Status.WITHDRAWN):
        urls.append(revision_url(release))
    urls.extend(t.get_absolute_url() for t in selectors.trusts_with_published_results())
    response = render(
        request,
        "public/sitemap.xml",
        {"urls": [base + url for url in dict.fromkeys(urls)]},
        content_type="application/xml",
    )
    # A browser shows XML as a tree it styles inline; the sitemap holds no markup of its own.
    response._csp_update = {"style-src": [UNSAFE_INLINE]}  # type: ignore[attr-defined]
    return response
