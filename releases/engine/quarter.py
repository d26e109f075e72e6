"""Score, segment and rank one league table for one quarter."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from releases.engine.bootstrap import PeerGroupScores, likely_ranges
from releases.engine.scoring import metric_scores
from releases.engine.segments import (
    adjusted_segments,
    domain_segments,
    domain_totals,
    exact_averages,
    final_segments,
    half_up_hundredths,
    league_positions,
    metric_peer_statistics,
    quartile_thresholds,
    threshold_units,
    to_score_units,
    unadjusted_segments,
)
from releases.engine.types import (
    BoolArray,
    FloatArray,
    IntArray,
    ProgressCallback,
    QuarterInput,
    QuarterResult,
)


@dataclass(frozen=True)
class CountedScores:
    """The scores that count towards each trust's average, summed exactly in score units."""

    units: IntArray  # N x M, 0 where not counted or absent
    present: BoolArray  # N x M
    totals: IntArray
    counts: IntArray
    hundredths: IntArray  # the average to 2 d.p., half up, in hundredths

    @classmethod
    def of(cls, scores: FloatArray, counted: BoolArray) -> CountedScores:
        present = ~np.isnan(scores) & counted[np.newaxis, :]
        units = np.where(present, to_score_units(scores), 0)
        totals, counts = units.sum(axis=1), present.sum(axis=1).astype(np.int64)
        return cls(units, present, totals, counts, half_up_hundredths(totals, counts))

    @property
    def averages(self) -> list[Decimal | None]:
        return [
            Decimal(int(hundredths)).scaleb(-2) if count else None
            for hundredths, count in zip(self.hundredths, self.counts, strict=True)
        ]


def compute_quarter(
    quarter: QuarterInput, progress: ProgressCallback | None = None
) -> QuarterResult:
    """Metric scores, domain scores, average, segments, rank and likely ranges of every trust.

    Raises FrameworkIncomplete when the framework lacks a rule the data need.
    """
    report = progress or _ignore_progress
    scores = metric_scores(quarter)
    counted = np.array([rule.counted for rule in quarter.rules], dtype=bool)
    averaged = CountedScores.of(scores, counted)
    report(0.02, "Metric scores computed")

    thresholds = _thresholds(quarter, averaged)
    unadjusted = unadjusted_segments(averaged.totals, averaged.counts, threshold_units(thresholds))
    adjusted = adjusted_segments(unadjusted, quarter.in_deficit)
    final = final_segments(adjusted, quarter.in_recovery_support)
    ranked_segment = adjusted if quarter.rank_on_adjusted_segment else final
    report(0.05, "Segments and league positions computed")

    by_domain = domain_totals(
        averaged.units, averaged.present, [rule.domain for rule in quarter.rules]
    )
    segments_by_domain, domain_thresholds = domain_segments(by_domain, quarter.domain_thresholds)

    average_range, rank_range = _likely_ranges(quarter, averaged, thresholds, report)
    median, lower_quartile, upper_quartile = metric_peer_statistics(quarter.values)
    report(1.0, "Quarter computed")
    return QuarterResult(
        trust_codes=list(quarter.trust_codes),
        metric_codes=[rule.code for rule in quarter.rules],
        scores=scores,
        domain_scores={
            domain: exact_averages(totals, counts) for domain, (totals, counts) in by_domain.items()
        },
        average=averaged.averages,
        average_exact=exact_averages(averaged.totals, averaged.counts),
        metrics_counted=averaged.counts,
        unadjusted_segment=unadjusted,
        adjusted_segment=adjusted,
        final_segment=final,
        rank=league_positions(ranked_segment, averaged.hundredths),
        average_range=average_range,
        rank_range=rank_range,
        thresholds=thresholds,
        metric_median=median,
        metric_lower_quartile=lower_quartile,
        metric_upper_quartile=upper_quartile,
        domain_segments=segments_by_domain,
        domain_thresholds=domain_thresholds,
    )


def _thresholds(quarter: QuarterInput, averaged: CountedScores) -> tuple[float, float, float]:
    if quarter.thresholds is not None:
        t1, t2, t3 = quarter.thresholds
        return float(t1), float(t2), float(t3)
    if quarter.quartile_pool_averages is not None:
        return quartile_thresholds(np.asarray(quarter.quartile_pool_averages, dtype=np.float64))
    # By default the peer group's own published (2 d.p.) averages, so that anyone can recompute
    # the thresholds from the published table.
    return quartile_thresholds(averaged.hundredths[averaged.counts > 0] / 100.0)


def _likely_ranges(
    quarter: QuarterInput,
    averaged: CountedScores,
    thresholds: tuple[float, float, float],
    report: ProgressCallback,
) -> tuple[FloatArray, IntArray]:
    scored = averaged.counts > 0
    average_range = np.full((len(quarter.trust_codes), 2), np.nan)
    rank_range = np.zeros((len(quarter.trust_codes), 2), dtype=np.int64)
    peer_group = PeerGroupScores.from_scores(
        averaged.units[scored],
        averaged.present[scored],
        quarter.in_deficit[scored],
        quarter.in_recovery_support[scored],
    )
    average_range[scored], rank_range[scored] = likely_ranges(
        peer_group,
        threshold_units(thresholds),
        quarter.replicates,
        quarter.seed,
        quarter.rank_on_adjusted_segment,
        lambda fraction, message: report(0.05 + 0.9 * fraction, message),
    )
    return average_range, rank_range


def _ignore_progress(fraction: float, message: str) -> None:
    """Progress goes nowhere when nobody asked for it."""
