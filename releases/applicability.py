"""Which of a release's metrics it shows, and which of them apply to each of its trusts.

- A release shows a metric of its framework only if some trust has a value, rating or score for
  it in that release. One that no trust reported that quarter (OF1067, the CQC "safe" rating, in
  Q4 2025/26) is left off the release's pages and lists; the methodology page says it had no
  data then.
- A shown metric applies to a trust unless its definition names the subtypes it measures, the
  trust's subtype is not among them, and the trust reported nothing for it. It is then "not
  applicable" to that trust, never "not reported", and not counted as missing. A trust that does
  report it (R1A, a community trust that also runs mental health services) is scored on it as
  NHS England scores it: the scoring engine never consults applicability.

Everything here is read from what a signed-off release fixes (its framework version, each row's
subtype as the release has it, its metric results), so a published table says the same for good.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from metrics.models import MetricDefinition
from releases.models import MetricPeerStatistics, MetricResult, Release


class Coverage(enum.StrEnum):
    REPORTED = "reported"
    NOT_REPORTED = "not_reported"
    NOT_APPLICABLE = "not_applicable"


def coverage(definition: MetricDefinition, subtype: str, reported: bool) -> Coverage:
    """Whether a trust of `subtype` reported the metric, failed to, or is not measured on it."""
    if reported:
        return Coverage.REPORTED
    if definition.applies_to(subtype):
        return Coverage.NOT_REPORTED
    return Coverage.NOT_APPLICABLE


def subtype_trusts(subtype: str) -> str:
    """ "community trusts", "care trusts": a subtype's trusts in a sentence."""
    name = subtype.strip().lower()
    if name.endswith(" trust"):
        return f"{name}s"
    return f"{name} trusts"


def not_applicable_text(definition: MetricDefinition, subtype: str) -> str:
    """The short explanation shown beside "Not applicable"."""
    text = f"Not measured for {subtype_trusts(subtype)}"
    note = definition.not_applicable_note.strip().rstrip(".")
    return f"{text}: {note}." if note else f"{text}."


def metrics_with_data(release_ids: Iterable[int]) -> dict[int, set[int]]:
    """Release id → the metrics some trust has a value, rating or score for in it (one query).

    Every stored metric result holds one of the three: the computation writes no empty cells.
    It also writes peer statistics for every metric of the framework, so each (release, metric)
    pair is one index probe for a first result, whatever the number of trusts.
    """
    found: dict[int, set[int]] = defaultdict(set)
    ids = set(release_ids)
    if not ids:
        return found
    reported = MetricResult.objects.filter(
        release_id=OuterRef("release_id"), metric_id=OuterRef("metric_id")
    )
    for release_id, metric_id in (
        MetricPeerStatistics.objects.filter(release_id__in=ids)
        .filter(Exists(reported))
        .values_list("release_id", "metric_id")
    ):
        found[release_id].add(metric_id)
    return found


@dataclass(frozen=True)
class ReleaseMetrics:
    """A release's framework metrics in display order: those it shows, and those it leaves
    out because no trust reported them."""

    shown: list[MetricDefinition]
    without_data: list[MetricDefinition]


def release_metrics(release: Release) -> ReleaseMetrics:
    """The release's framework metrics, split by whether it has data for them (one query)."""
    definitions = (
        MetricDefinition.objects.filter(framework_id=release.framework_id)
        .annotate(
            reported=Exists(
                MetricResult.objects.filter(release_id=release.pk, metric_id=OuterRef("metric_id"))
            )
        )
        .select_related("metric", "domain")
        .order_by("domain__display_order", "display_order", "metric__code")
    )
    shown, without = [], []
    for definition in definitions:
        (shown if definition.reported else without).append(definition)
    return ReleaseMetrics(shown, without)


def shown_metric_codes(releases: Iterable[Release]) -> dict[int, list[str]]:
    """Release id → the codes of the metrics it shows, in its framework's order (two queries
    for any number of releases)."""
    releases = list(releases)
    if not releases:
        return {}
    with_data = metrics_with_data(release.pk for release in releases)
    by_framework: dict[int, list[MetricDefinition]] = defaultdict(list)
    for definition in (
        MetricDefinition.objects.filter(framework_id__in={r.framework_id for r in releases})
        .select_related("metric")
        .order_by("domain__display_order", "display_order", "metric__code")
    ):
        by_framework[definition.framework_id].append(definition)
    return {
        release.pk: [
            d.metric.code
            for d in by_framework[release.framework_id]
            if d.metric_id in with_data[release.pk]
        ]
        for release in releases
    }
