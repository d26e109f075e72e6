"""When a trust's segment is uncertain: its likely range of average score crosses a threshold.

The segment is read off the average metric score against the release's thresholds (segment 1
up to t1, 2 up to t2, 3 up to t3, 4 above). The average has a likely range (a bootstrap
interval); if that range reaches across a threshold, re-sampling the trust's own scores would
put it in another segment as often as not, and the published segment should not be read as
certain. A financial deficit holds a trust in segment 3 or below, so for it only t3 can matter;
segment 5 (the Recovery Support Programme) is decided by regulators, never by the score.

One rule, two forms: a queryset expression, so the league table page and the API can filter on
it, and a function on one row, for the trust page and the downloads.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When

from releases.engine.segments import SEGMENT_FINANCIAL_OVERRIDE
from releases.models import Release, TrustResult

THRESHOLDS = ("t1", "t2", "t3")


def _crosses(threshold: str) -> Q:
    # The segment rule puts an average equal to a threshold in the better segment, so a range
    # that ends on a threshold does not cross it; one that starts on it does.
    return Q(
        **{
            f"release__{threshold}__isnull": False,
            "average_low__lte": F(f"release__{threshold}"),
            "average_high__gt": F(f"release__{threshold}"),
        }
    )


def uncertain_condition() -> Q:
    """The rows whose segment the likely range leaves uncertain."""
    return (
        Q(in_recovery_support=False, average_low__isnull=False, average_high__isnull=False)
        & Q(segment__isnull=False)
        & (_crosses("t3") | (Q(in_financial_deficit=False) & (_crosses("t1") | _crosses("t2"))))
    )


def with_segment_uncertainty(rows: QuerySet[TrustResult]) -> QuerySet[TrustResult]:
    """Rows annotated with `segment_uncertain` (filterable, sortable)."""
    return rows.annotate(
        segment_uncertain=Case(
            When(uncertain_condition(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def possible_segments(row: Any, release: Release) -> list[int]:
    """The segments the trust's average could be in across its likely range, best first.

    One segment when it is certain (or decided other than by the score); two or more when the
    likely range crosses a threshold.
    """
    if row.segment is None:
        return []
    if row.in_recovery_support or row.average_low is None or row.average_high is None:
        return [row.segment]
    thresholds = [getattr(release, name) for name in THRESHOLDS]
    if any(t is None for t in thresholds):
        return [row.segment]

    def segment_of(average: Decimal) -> int:
        return 1 + sum(1 for t in thresholds if average > t)

    low, high = Decimal(row.average_low), Decimal(row.average_high)
    segments = list(range(segment_of(low), segment_of(high) + 1))
    if row.in_financial_deficit:
        segments = sorted({max(s, SEGMENT_FINANCIAL_OVERRIDE) for s in segments})
    return segments


def is_segment_uncertain(row: Any, release: Release) -> bool:
    return len(possible_segments(row, release)) > 1
