"""Which numbers of a release are synthetic: the one rule, asked by every page, download, feed
entry and API response that shows a release.

NHS England's acute and ambulance metric values are not public, so the demonstration generates
them (`metrics.synthetic`), stored with `Observation.is_synthetic`; a regulator may also mark a
whole metric as synthetic (`Metric.is_synthetic`). Anything computed from such a value is
synthetic too, and says so wherever it appears:

- a trust's value of a metric is synthetic if its observation is, or the metric is;
- a ranked score depends on every value of its pool (the release's trusts, or all trusts
  nationally), so it is synthetic if any value in that pool is;
- a score looked up from other metrics' scores (OF1080 combined finance, from OF0079 and
  OF0081) is synthetic if any of its inputs' is, for that trust;
- but a score the release took as supplied with the data (NHS England's published scores)
  comes from that observation alone, whatever the pool or the inputs;
- a league table row (average, segments, domain scores, rank) is synthetic if any score counted
  in its average is, or its deficit and Recovery Support flags came from the synthetic
  demonstration;
- a metric is synthetic in a release if any trust's result of it is, and the release is if any
  of its results or rows is.

The answer is read from the release's stored results and the current flags of its inputs, so a
metric marked synthetic after publication shows as such at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from metrics.models import ImportRun, MetricDefinition, Observation, TrustQuarterStatus
from releases.models import MetricResult, Release, TrustResult


@dataclass(frozen=True)
class SyntheticValues:
    """What of one release is synthetic or computed from synthetic values."""

    # (trust id, metric id) of every stored result whose value or score is synthetic.
    results: frozenset[tuple[int, int]] = frozenset()
    # Trust ids of the rows whose average, segment or rank comes from synthetic values.
    rows: frozenset[int] = frozenset()
    # The codes of the metrics with a synthetic result, in code order.
    metric_codes: tuple[str, ...] = ()
    metrics: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", frozenset(metric for _, metric in self.results))

    @property
    def release(self) -> bool:
        """Whether anything the release shows is synthetic."""
        return bool(self.results or self.rows)

    def result(self, trust_id: int, metric_id: int) -> bool:
        return (trust_id, metric_id) in self.results

    def metric(self, metric_id: int) -> bool:
        return metric_id in self.metrics

    def row(self, trust_id: int) -> bool:
        return trust_id in self.rows


NOTHING_SYNTHETIC = SyntheticValues()


def synthetic_values(release: Release) -> SyntheticValues:
    """What of `release` is synthetic, in at most seven queries (one for a real table)."""
    return synthetic_values_of([release])[release.pk]


def synthetic_values_of(releases: Iterable[Release]) -> dict[int, SyntheticValues]:
    """Release id → what of it is synthetic, for any number of releases in at most seven
    queries; one when none of them has a synthetic input (every real table)."""
    releases = list(releases)
    answers = dict.fromkeys((release.pk for release in releases), NOTHING_SYNTHETIC)
    releases = _with_synthetic_inputs(releases)
    if not releases:
        return answers
    release_ids = [release.pk for release in releases]
    quarter_ids = {release.quarter_id for release in releases}
    definitions: dict[int, list[_Definition]] = defaultdict(list)
    for framework_id, *columns in MetricDefinition.objects.filter(
        framework_id__in={release.framework_id for release in releases}
    ).values_list(
        "framework_id",
        "metric_id",
        "metric__code",
        "method",
        "params",
        "counted",
        "pool",
        "metric__is_synthetic",
    ):
        definitions[framework_id].append(_Definition(*columns))
    trusts: dict[int, set[int]] = defaultdict(set)
    for release_id, trust_id in TrustResult.objects.filter(release_id__in=release_ids).values_list(
        "release_id", "trust_id"
    ):
        trusts[release_id].add(trust_id)
    # Every synthetic value of these quarters, of any trust: national pools take them all.
    observed: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for quarter_id, trust_id, metric_id, has_value in Observation.objects.filter(
        quarter_id__in=quarter_ids,
        is_synthetic=True,
        metric_id__in={d.metric_id for group in definitions.values() for d in group},
    ).values_list("quarter_id", "trust_id", "metric_id", _is_set("value")):
        observed[quarter_id].append((trust_id, metric_id, has_value))
    flagged: dict[int, set[int]] = defaultdict(set)
    for quarter_id, trust_id in TrustQuarterStatus.objects.filter(
        quarter_id__in=quarter_ids, import_run__kind=ImportRun.Kind.SYNTHETIC
    ).values_list("quarter_id", "trust_id"):
        flagged[quarter_id].add(trust_id)
    supplied = _supplied_scores(
        [
            release
            for release in releases
            if release.use_supplied_scores
            and (
                observed[release.quarter_id]
                or any(d.metric_synthetic for d in definitions[release.framework_id])
            )
        ]
    )

    reach = {
        release.pk: _reach(
            definitions[release.framework_id],
            trusts[release.pk],
            observed[release.quarter_id],
            supplied.get(release.quarter_id, set()) if release.use_supplied_scores else set(),
        )
        for release in releases
    }
    stored = _stored_results(reach)
    for release in releases:
        counted = {d.metric_id for d in definitions[release.framework_id] if d.counted}
        codes = {d.metric_id: d.code for d in definitions[release.framework_id]}
        reached = reach[release.pk]
        results = set()
        rows = trusts[release.pk] & flagged[release.quarter_id]
        for trust_id, metric_id, scored in stored.get(release.pk, ()):
            if trust_id in reached.get(metric_id, ()):
                results.add((trust_id, metric_id))
                if scored and metric_id in counted:
                    rows.add(trust_id)
        answers[release.pk] = (
            SyntheticValues(
                frozenset(results),
                frozenset(rows),
                tuple(sorted({codes[metric_id] for _, metric_id in results})),
            )
            if results or rows
            else NOTHING_SYNTHETIC
        )
    return answers


def releases_with_synthetic_values(releases: Iterable[Release]) -> set[int]:
    """The ids of those of `releases` that show anything synthetic."""
    return {pk for pk, values in synthetic_values_of(releases).items() if values.release}


def _with_synthetic_inputs(releases: list[Release]) -> list[Release]:
    """Those of `releases` with any synthetic input at all, in one query: a synthetic value of
    one of its framework's metrics for one of its trusts, or of a nationally ranked one for
    any trust, a metric marked synthetic, or a trust's flags from the synthetic
    demonstration."""
    if not releases:
        return []
    candidates = Release.objects.filter(pk__in=[release.pk for release in releases]).filter(
        Exists(
            Observation.objects.filter(
                quarter_id=OuterRef("quarter_id"),
                is_synthetic=True,
                trust__results__release_id=OuterRef("pk"),
                metric__definitions__framework_id=OuterRef("framework_id"),
            )
        )
        | Exists(
            Observation.objects.filter(
                quarter_id=OuterRef("quarter_id"),
                is_synthetic=True,
                value__isnull=False,
                metric__definitions__framework_id=OuterRef("framework_id"),
                metric__definitions__method=MetricDefinition.Method.RANKED,
                metric__definitions__pool=MetricDefinition.Pool.NATIONAL,
            )
        )
        | Exists(
            MetricDefinition.objects.filter(
                framework_id=OuterRef("framework_id"), metric__is_synthetic=True
            )
        )
        | Exists(
            TrustQuarterStatus.objects.filter(
                quarter_id=OuterRef("quarter_id"),
                import_run__kind=ImportRun.Kind.SYNTHETIC,
                trust__results__release_id=OuterRef("pk"),
            )
        )
    )
    with_inputs = set(candidates.values_list("pk", flat=True))
    return [release for release in releases if release.pk in with_inputs]


@dataclass(frozen=True)
class _Definition:
    metric_id: int
    code: str
    method: str
    params: dict
    counted: bool
    pool: str
    metric_synthetic: bool


def _reach(
    definitions: list[_Definition],
    trusts: set[int],
    observed: list[tuple[int, int, bool]],
    supplied: set[tuple[int, int]],
) -> dict[int, set[int]]:
    """Metric id → the trusts of the release whose result of it is synthetic, by the rule in
    the module's docstring. `supplied`: (trust, metric) whose score the release took as
    supplied with the data, so it comes from that observation alone."""
    own: dict[int, set[int]] = defaultdict(set)
    in_pool: dict[int, set[int]] = defaultdict(set)  # trusts with a synthetic value
    for trust_id, metric_id, has_value in observed:
        if trust_id in trusts:
            own[metric_id].add(trust_id)
        if has_value:
            in_pool[metric_id].add(trust_id)
    reach: dict[int, set[int]] = {}
    for d in definitions:
        reached = set(trusts) if d.metric_synthetic else own[d.metric_id]
        if d.method == MetricDefinition.Method.RANKED:
            pool = in_pool[d.metric_id]
            if pool if d.pool == MetricDefinition.Pool.NATIONAL else pool & trusts:
                reached = reached | _computed(trusts, d.metric_id, supplied)
        reach[d.metric_id] = reached
    # A lookup takes its inputs' scores, which may themselves be looked up: repeat until
    # nothing new is reached (a framework's lookups never form a cycle).
    by_code = {d.code: d.metric_id for d in definitions}
    lookups = [d for d in definitions if d.method == MetricDefinition.Method.LOOKUP]
    changed = True
    while changed:
        changed = False
        for d in lookups:
            inputs: set[int] = set()
            for code in d.params.get("inputs", []):
                inputs |= reach.get(by_code.get(code, -1), set())
            inputs &= _computed(trusts, d.metric_id, supplied)
            if not inputs <= reach[d.metric_id]:
                reach[d.metric_id] = reach[d.metric_id] | inputs
                changed = True
    return {metric_id: reached for metric_id, reached in reach.items() if reached}


def _is_set(name: str) -> ExpressionWrapper:
    """Whether a column holds a value, read without converting every decimal."""
    return ExpressionWrapper(Q(**{f"{name}__isnull": False}), output_field=BooleanField())


def _computed(trusts: set[int], metric_id: int, supplied: set[tuple[int, int]]) -> set[int]:
    """The trusts whose score of the metric was computed, not supplied with the data."""
    return {trust_id for trust_id in trusts if (trust_id, metric_id) not in supplied}


def _supplied_scores(releases: list[Release]) -> dict[int, set[tuple[int, int]]]:
    """Quarter id → (trust, metric) of every observation with a supplied score, in the
    quarters of `releases` (which use supplied scores): one query, none without any."""
    if not releases:
        return {}
    supplied: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for quarter_id, trust_id, metric_id in Observation.objects.filter(
        quarter_id__in={release.quarter_id for release in releases},
        trust_id__in=TrustResult.objects.filter(release__in=releases).values("trust_id"),
        supplied_score__isnull=False,
    ).values_list("quarter_id", "trust_id", "metric_id"):
        supplied[quarter_id].add((trust_id, metric_id))
    return supplied


def _stored_results(
    reach: dict[int, dict[int, set[int]]],
) -> dict[int, list[tuple[int, int, bool]]]:
    """Release id → (trust, metric, has a score) of its stored results of the metrics a
    synthetic value reaches: one query, none if no release has any."""
    wanted = {release_id: set(metrics) for release_id, metrics in reach.items() if metrics}
    if not wanted:
        return {}
    stored: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for release_id, trust_id, metric_id, scored in MetricResult.objects.filter(
        release_id__in=wanted,
        metric_id__in=set().union(*wanted.values()),
    ).values_list("release_id", "trust_id", "metric_id", _is_set("score")):
        if metric_id in wanted[release_id]:
            stored[release_id].append((trust_id, metric_id, scored))
    return stored
