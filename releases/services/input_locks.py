"""Published means fixed: the inputs of a release an approver has signed off (approved,
scheduled, published) may not change.

`metrics` sits below this app and cannot import it, so `ReleasesConfig.ready()` registers this
module with `metrics.input_locks`; Observation and TrustQuarterStatus consult it from `save()`
and from their bulk queryset methods (which the importers use), and the importers ask
`fixed_trusts` so that their report can name every refused row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from metrics.models import MetricDefinition
from releases.models import PublishedDataIsFixed, Release, TrustResult


def releases_fixing_observations(quarter_ids: Iterable[int]) -> list[Release]:
    """Releases of these quarters whose inputs are fixed: approved, scheduled or published,
    with no later revision of theirs open for correction."""
    quarter_ids = set(quarter_ids)
    if not quarter_ids:
        return []
    candidates = list(Release.objects.fixing_inputs().filter(quarter_id__in=quarter_ids))
    if not candidates:
        return []
    open_corrections = set(
        Release.objects.filter(
            quarter_id__in=quarter_ids, status__in=Release.OPEN_CORRECTION_STATUSES
        ).values_list("quarter_id", "peer_group_id", "revision")
    )
    return [
        release
        for release in candidates
        if not any(
            (q, g) == (release.quarter_id, release.peer_group_id) and revision > release.revision
            for q, g, revision in open_corrections
        )
    ]


def fixed_trusts(quarter: Any) -> dict[int, Release]:
    """Trust id → the release that fixes its observations in this quarter.

    For importers that report each refused row as an invalid row of the file (all or nothing)
    instead of failing on the first one.
    """
    quarter_id = getattr(quarter, "pk", quarter)
    fixing = {r.pk: r for r in releases_fixing_observations([quarter_id])}
    if not fixing:
        return {}

    return {
        trust_id: fixing[release_id]
        for trust_id, release_id in TrustResult.objects.filter(release_id__in=fixing).values_list(
            "trust_id", "release_id"
        )
    }


def assert_observations_editable(
    trust_ids: Iterable[int], quarter: Any, metric_ids: Iterable[int] | None = None
) -> None:
    """Raise `PublishedDataIsFixed` if changing these trusts' data for this quarter would change
    the inputs of a release that is approved, scheduled or published.

    A release's inputs are its own trusts' observations and flags; with `metric_ids`, also any
    trust's observation of a metric the release ranks over a national pool. Such a change must
    wait for a correction: `start_correction` opens one, and from then on the data may change.
    """
    trust_ids = set(trust_ids)
    quarter_id = getattr(quarter, "pk", quarter)
    fixing = releases_fixing_observations([quarter_id])
    if not fixing or not trust_ids:
        return

    used = list(
        TrustResult.objects.filter(release__in=[r.pk for r in fixing], trust_id__in=trust_ids)
        .select_related("release__quarter", "release__peer_group", "trust")
        .order_by("release__peer_group__display_order", "release__pk", "trust__ods_code")
    )
    if used:
        releases = list({row.release_id: row.release for row in used}.values())
        codes = sorted({row.trust.ods_code for row in used})
        raise PublishedDataIsFixed(
            _fixed_message(releases, f"{_some(codes, 'trusts')}'s data", used[0].release.quarter),
            because_of=releases,
        )
    if metric_ids:
        national = list(
            MetricDefinition.objects.filter(
                framework_id__in={r.framework_id for r in fixing},
                metric_id__in=set(metric_ids),
                pool=MetricDefinition.Pool.NATIONAL,
            )
            .select_related("metric")
            .order_by("metric__code")
        )
        if national:
            frameworks = {d.framework_id for d in national}
            releases = [r for r in fixing if r.framework_id in frameworks]
            codes = sorted({d.metric.code for d in national})
            raise PublishedDataIsFixed(
                _fixed_message(
                    releases,
                    f"Any trust's {_some(codes, 'metrics')}, ranked over a national pool,",
                    releases[0].quarter,
                ),
                because_of=releases,
            )


def _some(names: list[str], noun: str, shown: int = 3) -> str:
    """ "T001", "T001 and T002", "T001, T002, T003 and 4 other trusts"."""
    if len(names) <= shown:
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:shown])} and {len(names) - shown} other {noun}"


def _fixed_message(releases: list[Release], what: str, quarter: Any) -> str:
    """What cannot change, which signed-off releases used it, and how to change it anyway."""
    named = " and ".join(f"{r} ({r.get_status_display().lower()})" for r in releases[:3])
    if len(releases) > 3:
        named += f" and {len(releases) - 3} other releases"
    published = [r for r in releases if r.status == Release.Status.PUBLISHED]
    awaiting = [r for r in releases if r.status != Release.Status.PUBLISHED]
    steps = []
    if published:
        steps.append(
            "start a correction of "
            + ("it" if len(releases) == 1 else "each published one")
            + " (“Start a correction” on the release's page)"
        )
    if awaiting:
        steps.append(
            "return "
            + ("it" if len(releases) == 1 else "each approved or scheduled one")
            + " for changes (“Return for changes” on the release's page)"
        )
    return (
        f"{what} for {quarter} fed {named}, signed off by an approver, so it cannot change. "
        f"To change it, first {' and '.join(steps)}; then correct the data and recompute."
    )


def _fixing(releases: Any) -> list[Release]:
    return list(
        releases.fixing_frameworks()
        .select_related("quarter", "peer_group", "framework")
        .order_by("quarter__year_start", "quarter__number", "peer_group__display_order", "pk")
        .distinct()
    )


def releases_fixing_framework(framework_ids: Iterable[int]) -> list[Release]:
    ids = {pk for pk in framework_ids if pk is not None}
    return _fixing(Release.objects.filter(framework_id__in=ids)) if ids else []


def releases_fixing_thresholds(framework_id: int, quarter_id: int) -> list[Release]:
    return _fixing(Release.objects.filter(framework_id=framework_id, quarter_id=quarter_id))


def releases_fixing_metrics(metric_ids: Iterable[int]) -> list[Release]:
    ids = {pk for pk in metric_ids if pk is not None}
    if not ids:
        return []
    return _fixing(Release.objects.filter(framework__definitions__metric_id__in=ids))
