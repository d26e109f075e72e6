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

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
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
# Threads turning drawn numbers into totals and ranks while the calling thread draws. National
# scale on two cores: 6.5 s with no threads, 3.8 to 4.4 s with one, 3.5 to 4.1 s with two, 3.4
# to 3.7 s with three; each holds another chunk's arrays (about 50 MB at national scale).
_WORKERS = 2
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
    groups = _draw_groups(scores)
    means = np.empty((replicates, trusts))
    ranks = np.empty((replicates, trusts), dtype=np.int32)
    most_hundredths = int(scores.units.max()) // (SCORE_UNITS_PER_POINT // 100) + 1
    chunk = DRAWS_PER_CHUNK // (trusts * scores.units.shape[1])
    chunk = min(max(chunk, 1), MOST_REPLICATES_PER_CHUNK)

    def settle(start: int, stop: int, uniforms: list[FloatArray]) -> None:
        totals = _totals(uniforms, groups, stop - start, trusts)
        means[start:stop] = totals / (scores.counts * float(SCORE_UNITS_PER_POINT))
        ranks[start:stop] = replicate_ranks(
            totals, scores, thresholds, most_hundredths, rank_on_adjusted_segment
        )

    # The random numbers are drawn here, chunk after chunk, in one stream: the same numbers for
    # the same seed whatever the threads do. Turning them into totals and ranks (most of the
    # work, and NumPy lets go of the GIL for it) runs on worker threads meanwhile, each chunk
    # into its own rows.
    reported = 0.0
    pending: deque[tuple[int, Future[None]]] = deque()
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="likely-ranges") as pool:
        for start in range(0, replicates, chunk):
            stop = min(start + chunk, replicates)
            pending.append(
                (stop, pool.submit(settle, start, stop, _draw(generator, groups, stop - start)))
            )
            while pending and (len(pending) > _WORKERS or stop == replicates):
                done, settled = pending.popleft()
                settled.result()
                if progress is not None and (
                    done / replicates >= reported + PROGRESS_STEP or done == replicates
                ):
                    reported = done / replicates
                    progress(reported, f"Likely ranges: {done:,} of {replicates:,} replicates")
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


@dataclass(frozen=True)
class _DrawGroup:
    """Trusts with the same number of counted scores, drawn from together."""

    count: int
    members: IntArray
    table: IntArray  # the members' scores, one after another
    offsets: IntArray  # where each member's scores start in `table`


def _draw_groups(scores: PeerGroupScores) -> list[_DrawGroup]:
    groups = []
    for count in np.unique(scores.counts):
        members = np.flatnonzero(scores.counts == count)
        groups.append(
            _DrawGroup(
                int(count),
                members,
                scores.units[members, :count].ravel(),
                (np.arange(members.size, dtype=np.intp) * count)[:, np.newaxis],
            )
        )
    return groups


def _draw(
    generator: np.random.Generator, groups: list[_DrawGroup], replicates: int
) -> list[FloatArray]:
    """The uniform numbers of `replicates` replicates, group by group, in the engine's order."""
    return [generator.random((replicates, group.members.size, group.count)) for group in groups]


def _totals(
    uniforms: list[FloatArray], groups: list[_DrawGroup], replicates: int, trusts: int
) -> IntArray:
    """Resampled totals from drawn uniforms: within a group the score drawn is
    ``floor(u x count)``."""
    totals = np.empty((replicates, trusts), dtype=np.int64)
    for picks, group in zip(uniforms, groups, strict=True):
        picks *= group.count
        drawn = picks.astype(np.intp)
        drawn += group.offsets
        totals[:, group.members] = group.table[drawn].sum(axis=2)
    return totals


def resampled_totals(
    generator: np.random.Generator, scores: PeerGroupScores, replicates: int
) -> IntArray:
    """Sum of each trust's scores resampled with replacement (replicates x trusts), in units.

    Trusts are drawn in groups of equal score count, so no draw is wasted on padding and no
    mask is needed.
    """
    groups = _draw_groups(scores)
    return _totals(_draw(generator, groups, replicates), groups, replicates, scores.counts.size)


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
