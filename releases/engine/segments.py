"""From metric scores to averages, segments and league positions: METHODOLOGY sections 4 and 5.

Averages are kept exact by summing scores as whole billionths of a point ("score units"):
replaying the published 2 d.p. scores, TAJ's Q4 average is exactly 3.085 and must round half
up to 3.09 to tie with RMY at rank 58, but the binary float nearest 3.085 is just below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real

import numpy as np

from releases.engine.types import BoolArray, FloatArray, IntArray

SCORE_UNITS_PER_POINT = 10**9
_UNITS_PER_HUNDREDTH = SCORE_UNITS_PER_POINT // 100
# Quartiles are taken as Excel's QUARTILE.INC / NumPy's default does: this reproduces NHS
# England's published Median_value, Lower_quartile and Upper_quartile columns.
QUARTILE_METHOD = "linear"
SEGMENT_RECOVERY_SUPPORT = 5
SEGMENT_FINANCIAL_OVERRIDE = 3
# Ranking counts keys when they take few values for the trusts ranked: a row's tally costs as
# much as its span of values, a row's sort about width x log2(width) comparisons (measured: 61
# trusts over 2,005 values sort in a sixth of the time counting takes; 500 trusts count in a
# third of the sorting time). Above _DENSE_RANKING_LIMIT (replicate x value) cells it sorts
# anyway, to bound the tally's memory. Both give the same ranks.
_DENSE_RANKING_LIMIT = 1 << 22
_SPAN_PER_TRUST_FOR_COUNTING = 8


def round_half_up(value: Real | Decimal | str, places: int = 2) -> Decimal:
    """Round half up on the decimal value a person reads, as a spreadsheet does.

    A float is taken at its shortest representation, so 3.085 rounds to 3.09 although the binary
    float nearest 3.085 is slightly below it.
    """
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_score_units(scores: FloatArray) -> IntArray:
    """Scores as whole billionths of a point (NaN becomes 0: mask it separately)."""
    return np.rint(np.nan_to_num(scores, nan=0.0) * SCORE_UNITS_PER_POINT).astype(np.int64)


def threshold_units(thresholds: tuple[float, float, float]) -> tuple[int, int, int]:
    """Thresholds in score units, read at their shortest decimal form (2.3, not 2.2999...)."""
    t1, t2, t3 = (
        int(round_half_up(threshold, 9).scaleb(9).to_integral_value()) for threshold in thresholds
    )
    return t1, t2, t3


def half_up_hundredths(totals: IntArray, counts: IntArray) -> IntArray:
    """Each average (total units / count) in hundredths of a point, rounded half up exactly.

    0 where a trust has no scores.
    """
    divisor = 2 * np.maximum(counts, 1) * _UNITS_PER_HUNDREDTH
    hundredths = (2 * totals + divisor // 2) // divisor
    return np.where(counts > 0, hundredths, 0)


def exact_averages(totals: IntArray, counts: IntArray) -> FloatArray:
    """Unrounded averages (NaN where a trust has no scores)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        averages = totals / (counts * float(SCORE_UNITS_PER_POINT))
    return np.where(counts > 0, averages, np.nan)


def quartile_thresholds(averages: FloatArray) -> tuple[float, float, float]:
    """The 25th, 50th and 75th percentiles of a pool of averages, as segment thresholds."""
    pool = np.asarray(averages, dtype=np.float64)
    pool = pool[~np.isnan(pool)]
    if pool.size == 0:
        raise ValueError("no averages to take quartiles of: type the thresholds in instead")
    quartiles = np.percentile(pool, [25.0, 50.0, 75.0], method=QUARTILE_METHOD)
    # Quartiles of 2 d.p. averages are exact at 4 d.p.; rounding to 9 removes binary noise.
    t1, t2, t3 = (float(round_half_up(float(quartile), 9)) for quartile in quartiles)
    return t1, t2, t3


def unadjusted_segments(
    totals: IntArray, counts: IntArray, thresholds: tuple[int, int, int]
) -> IntArray:
    """Segment 1 to 4 from the average: 1 if average <= t1, 2 if <= t2, 3 if <= t3, else 4.

    The unrounded average is compared (exactly, as total <= threshold x count). Replaying the
    published 2 d.p. scores with METHODOLOGY's thresholds this reproduces all 244 published
    unadjusted segments; comparing the 2 d.p. average misses RAT in Q3 (2.0745 shows as 2.07,
    equal to t1, though NHS England's own unrounded average was 2.0751).
    """
    segments = np.ones(totals.shape, dtype=np.int64)
    for threshold in thresholds:
        segments += totals > np.int64(threshold) * counts
    return np.where(counts > 0, segments, 0)


def adjusted_segments(unadjusted: IntArray, in_deficit: BoolArray) -> IntArray:
    """Financial override: a trust in deficit cannot be above segment 3."""
    capped = np.maximum(unadjusted, SEGMENT_FINANCIAL_OVERRIDE)
    return np.where(in_deficit & (unadjusted > 0), capped, unadjusted)


def final_segments(adjusted: IntArray, in_recovery_support: BoolArray) -> IntArray:
    """A trust in the Recovery Support Programme is in segment 5 whatever its score."""
    return np.where(in_recovery_support & (adjusted > 0), SEGMENT_RECOVERY_SUPPORT, adjusted)


def league_positions(segments: IntArray, hundredths: IntArray) -> IntArray:
    """Rank by segment, then 2 d.p. average, ties sharing a rank (11, 11, 11, 14); 0 if unranked."""
    ranked = segments > 0
    positions = np.zeros(segments.shape, dtype=np.int64)
    if ranked.any():
        keys = ranking_keys(segments[ranked], hundredths[ranked], int(hundredths.max()))
        positions[ranked] = competition_ranks(keys[np.newaxis, :])[0]
    return positions


def ranking_keys(segments: IntArray, hundredths: IntArray, most_hundredths: int) -> IntArray:
    """One integer per trust whose order is the league order (lower is better)."""
    return segments * np.int64(most_hundredths + 1) + hundredths


def competition_ranks(keys: IntArray) -> IntArray:
    """Competition rank of every key within its row (1 + how many keys in the row are lower)."""
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    rows, width = keys.shape
    if span * rows <= _DENSE_RANKING_LIMIT and span <= width * _SPAN_PER_TRUST_FOR_COUNTING:
        return _ranks_by_counting(keys - low, span)
    return _ranks_by_sorting(keys - low, span)


def _ranks_by_counting(keys: IntArray, span: int) -> IntArray:
    # Keys take few values (segment x hundredths), so counting beats sorting every replicate.
    rows, width = keys.shape
    cells = keys + (np.arange(rows, dtype=np.int64) * span)[:, np.newaxis]
    tally = np.bincount(cells.ravel(), minlength=rows * span)
    lower_in_flat_order = np.cumsum(tally) - tally
    earlier_rows = (np.arange(rows, dtype=np.int64) * width)[:, np.newaxis]
    return lower_in_flat_order[cells] - earlier_rows + 1


def _ranks_by_sorting(keys: IntArray, span: int) -> IntArray:
    rows, width = keys.shape
    offsets = (np.arange(rows, dtype=np.int64) * span)[:, np.newaxis]
    ordered = (np.sort(keys, axis=1) + offsets).ravel()
    lower = np.searchsorted(ordered, (keys + offsets).ravel(), side="left").reshape(rows, width)
    return lower - (np.arange(rows, dtype=np.int64) * width)[:, np.newaxis] + 1


def domain_totals(
    units: IntArray, present: BoolArray, domains: list[str]
) -> dict[str, tuple[IntArray, IntArray]]:
    """Each domain's (total score units, count) of every trust's counted scores in it.

    Uncounted components (OF0079, OF0081) are left out, as the published OF4003 shows.
    """
    column_domains = np.asarray(domains)
    totals: dict[str, tuple[IntArray, IntArray]] = {}
    for domain in dict.fromkeys(domains):
        in_domain = present & (column_domains == domain)[np.newaxis, :]
        totals[domain] = (
            np.where(in_domain, units, 0).sum(axis=1),
            in_domain.sum(axis=1).astype(np.int64),
        )
    return totals


def domain_segments(
    totals: dict[str, tuple[IntArray, IntArray]],
    thresholds: Mapping[str, tuple[float, float, float] | None],
) -> tuple[dict[str, IntArray], dict[str, tuple[float, float, float]]]:
    """Segment 1 to 4 of each domain score by that domain's thresholds: METHODOLOGY 4.6.

    The same rule as the overall unadjusted segment (score <= t1 is segment 1, and so on),
    comparing the unrounded domain score exactly; no financial override or segment 5 applies.
    Replaying the published 2 d.p. scores with thresholds inside the published intervals this
    reproduces every published OF4100 to OF4105 of 2025/26. A domain with no thresholds is
    segmented by quartiles of the peer group's domain scores at 2 d.p. (0: no score).
    """
    segments: dict[str, IntArray] = {}
    used: dict[str, tuple[float, float, float]] = {}
    for domain, (domain_total, count) in totals.items():
        chosen = thresholds.get(domain)
        if chosen is None:
            scored = count > 0
            if not scored.any():
                segments[domain] = np.zeros(count.shape, dtype=np.int64)
                continue
            chosen = quartile_thresholds(half_up_hundredths(domain_total, count)[scored] / 100.0)
        used[domain] = (float(chosen[0]), float(chosen[1]), float(chosen[2]))
        segments[domain] = unadjusted_segments(domain_total, count, threshold_units(used[domain]))
    return segments, used


def metric_peer_statistics(values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Median, lower and upper quartile of each metric's values across the trusts (NaN ignored)."""
    metrics = values.shape[1]
    median, lower, upper = (np.full(metrics, np.nan) for _ in range(3))
    for column in range(metrics):
        reported = values[~np.isnan(values[:, column]), column]
        if reported.size:
            lower[column], median[column], upper[column] = np.percentile(
                reported, [25.0, 50.0, 75.0], method=QUARTILE_METHOD
            )
    return median, lower, upper
