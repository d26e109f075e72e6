"""Likely ranges of each trust's average score and rank: METHODOLOGY section 6.

Each replicate resamples every trust's counted metric scores with replacement (as many as it
has), segments the replicate means with the release's thresholds, applies the financial override
and segment 5, and ranks the peer group as the league table does. The likely range is the 2.5th
to 97.5th percentile over the replicates. With 5,000 replicates this reproduces NHS England's
published Q4 2025/26 ranges (average within 0.05, rank within 3 places) for 59 to 61 of the 61
trusts whatever the seed (61 with seed 1): the published ranges were a bootstrap of this kind.
The misses are trusts with few scores (RNK has 6), whose resampled means are lumpy enough for
the 2.5th percentile to jump between seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from releases.engine.segments import (
    SCORE_UNITS_PER_POINT,
    adjusted_segments,
    competition_ranks,
    final_segments,
    half_up_hundredths,
    ranking_keys,
    unadjusted_segments,
)
from releases.engine.types import BoolArray, FloatArray, IntArray, ProgressCallback

LIKELY_RANGE_PERCENTILES = (2.5, 97.5)
PERCENTILE_METHOD = "linear"
# Scores drawn per chunk of replicates: bounds memory (about 8 bytes x 3 arrays per draw) while
# keeping chunks big enough for NumPy to stay fast. Part of the engine's definition: changing it
# changes which random numbers each replicate gets.
DRAWS_PER_CHUNK = 1 << 21
# Also bounds each chunk's ranking tally (replicates x segment-and-hundredths keys).
MOST_REPLICATES_PER_CHUNK = 256
# Percentiles copy what they sort, so they are taken this many trusts at a time.
TRUSTS_PER_PERCENTILE_BLOCK = 1024
# Progress is reported each time another tenth of the replicates is done.
PROGRESS_STEP = 0.1


@dataclass(frozen=True)
class PeerGroupScores:
    """The counted metric scores of the trusts that have any, ready for resampling."""

    units: IntArray  # trusts x most scores, score units left-aligned in framework order
    counts: IntArray  # how many counted scores each trust has (>= 1)
    in_deficit: BoolArray
    in_recovery_support: BoolArray

    @classmethod
    def from_scores(
        cls,
        units: IntArray,
        present: BoolArray,
        in_deficit: BoolArray,
        in_recovery_support: BoolArray,
    ) -> PeerGroupScores:
        """Pack each trust's present scores to the left of a padded matrix."""
        counts = present.sum(axis=1).astype(np.int64)
        packed = np.zeros((units.shape[0], max(int(counts.max(initial=0)), 1)), dtype=np.int64)
        slots = np.cumsum(present, axis=1) - 1
        rows, columns = np.nonzero(present)
        packed[rows, slots[rows, columns]] = units[rows, columns]
        return cls(packed, counts, in_deficit, in_recovery_support)


def likely_ranges(
    scores: PeerGroupScores,
    thresholds: tuple[int, int, int],
    replicates: int,
    seed: int,
    rank_on_adjusted_segment: bool = False,
    progress: ProgressCallback | None = None,
) -> tuple[FloatArray, IntArray]:
    """The likely range of each trust's average (trusts x 2) and of its rank (trusts x 2).

    Seeded with ``np.random.default_rng(seed)``: identical inputs give identical ranges.
    """
    trusts = scores.counts.size
    if replicates == 0 or trusts == 0:
        return np.full((trusts, 2), np.nan), np.zeros((trusts, 2), dtype=np.int64)
    generator = np.random.default_rng(seed)
    means = np.empty((replicates, trusts))
    ranks = np.empty((replicates, trusts), dtype=np.int32)
    most_hundredths = int(scores.units.max()) // (SCORE_UNITS_PER_POINT // 100) + 1
    chunk = DRAWS_PER_CHUNK // (trusts * scores.units.shape[1])
    chunk = min(max(chunk, 1), MOST_REPLICATES_PER_CHUNK)
    reported = 0.0
    for start in range(0, replicates, chunk):
        stop = min(start + chunk, replicates)
        totals = resampled_totals(generator, scores, stop - start)
        means[start:stop] = totals / (scores.counts * float(SCORE_UNITS_PER_POINT))
        ranks[start:stop] = replicate_ranks(
            totals, scores, thresholds, most_hundredths, rank_on_adjusted_segment
        )
        if progress is not None and (
            stop / replicates >= reported + PROGRESS_STEP or stop == replicates
        ):
            reported = stop / replicates
            progress(reported, f"Likely ranges: {stop:,} of {replicates:,} replicates")
    # A rank is a whole place: round half up.
    rank_range = np.floor(_likely_range(ranks) + 0.5).astype(np.int64)
    return _likely_range(means), rank_range


def _likely_range(replicated: np.ndarray) -> FloatArray:
    """2.5th and 97.5th percentiles of each trust's column (trusts x 2)."""
    trusts = replicated.shape[1]
    bounds = np.empty((trusts, 2))
    for start in range(0, trusts, TRUSTS_PER_PERCENTILE_BLOCK):
        block = slice(start, start + TRUSTS_PER_PERCENTILE_BLOCK)
        bounds[block] = np.percentile(
            replicated[:, block], LIKELY_RANGE_PERCENTILES, axis=0, method=PERCENTILE_METHOD
        ).T
    return bounds


def resampled_totals(
    generator: np.random.Generator, scores: PeerGroupScores, replicates: int
) -> IntArray:
    """Sum of each trust's scores resampled with replacement (replicates x trusts), in units.

    Trusts are drawn in groups of equal score count, so no draw is wasted on padding and no
    mask is needed; within a group the score drawn is ``floor(u x count)``.
    """
    totals = np.empty((replicates, scores.counts.size), dtype=np.int64)
    for count in np.unique(scores.counts):
        members = np.flatnonzero(scores.counts == count)
        table = scores.units[members, :count].ravel()
        picks = generator.random((replicates, members.size, int(count)))
        picks *= count
        drawn = picks.astype(np.intp)
        drawn += (np.arange(members.size, dtype=np.intp) * count)[:, np.newaxis]
        totals[:, members] = table[drawn].sum(axis=2)
    return totals


def replicate_ranks(
    totals: IntArray,
    scores: PeerGroupScores,
    thresholds: tuple[int, int, int],
    most_hundredths: int,
    rank_on_adjusted_segment: bool,
) -> IntArray:
    """Each replicate's league positions, ranked exactly as the league table is."""
    counts = np.broadcast_to(scores.counts, totals.shape)
    adjusted = adjusted_segments(unadjusted_segments(totals, counts, thresholds), scores.in_deficit)
    segments = (
        adjusted
        if rank_on_adjusted_segment
        else final_segments(adjusted, scores.in_recovery_support)
    )
    hundredths = half_up_hundredths(totals, counts)
    return competition_ranks(ranking_keys(segments, hundredths, most_hundredths))
