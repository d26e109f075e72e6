"""Likely ranges by bootstrap (METHODOLOGY section 6)."""

from __future__ import annotations

import numpy as np
import pytest

from releases.engine import PeerGroupScores, bootstrap, compute_quarter, likely_ranges
from releases.engine.bootstrap import resampled_totals
from releases.engine.segments import threshold_units, to_score_units
from tests.releases.engine.conftest import QuarterInputBuilder

Q4 = "Q4 2025/26"
THRESHOLDS = threshold_units((2.065, 2.30, 2.585))


def _peer_group(
    scores: list[list[float]],
    in_deficit: list[bool] | None = None,
    in_recovery_support: list[bool] | None = None,
) -> PeerGroupScores:
    trusts, width = len(scores), max(len(row) for row in scores)
    matrix = np.full((trusts, width), np.nan)
    for index, row in enumerate(scores):
        matrix[index, : len(row)] = row
    return PeerGroupScores.from_scores(
        to_score_units(matrix),
        ~np.isnan(matrix),
        np.array(in_deficit or [False] * trusts),
        np.array(in_recovery_support or [False] * trusts),
    )


def test_it_gives_identical_ranges_for_the_same_seed(quarter_input: QuarterInputBuilder) -> None:
    first = compute_quarter(quarter_input(Q4, replicates=500, seed=20260331))
    second = compute_quarter(quarter_input(Q4, replicates=500, seed=20260331))
    other_seed = compute_quarter(quarter_input(Q4, replicates=500, seed=1))

    np.testing.assert_array_equal(first.average_range, second.average_range)
    np.testing.assert_array_equal(first.rank_range, second.rank_range)
    assert not np.array_equal(first.average_range, other_seed.average_range)


def test_it_brackets_each_trusts_average(quarter_input: QuarterInputBuilder) -> None:
    result = compute_quarter(quarter_input(Q4, replicates=2000))

    assert np.all(result.average_range[:, 0] <= result.average_exact)
    assert np.all(result.average_exact <= result.average_range[:, 1])
    assert np.all(result.rank_range[:, 0] <= result.rank_range[:, 1])
    assert result.rank_range.min() >= 1
    assert result.rank_range.max() <= 61


def test_it_resamples_only_a_trusts_own_scores() -> None:
    peer_group = _peer_group([[2.0, 2.0, 2.0], [1.0, 4.0], [3.5]])

    totals = resampled_totals(np.random.default_rng(3), peer_group, 200)

    assert np.all(totals[:, 0] == 6 * 10**9)
    assert set(np.unique(totals[:, 1]).tolist()) == {2 * 10**9, 5 * 10**9, 8 * 10**9}
    assert np.all(totals[:, 2] == 3.5 * 10**9)


def test_it_keeps_a_recovery_support_trust_last_in_every_replicate() -> None:
    peer_group = _peer_group(
        [[1.0, 1.2], [2.0, 3.0, 2.5], [3.9, 4.0]], in_recovery_support=[True, False, False]
    )

    average_range, rank_range = likely_ranges(peer_group, THRESHOLDS, 300, seed=5)

    assert rank_range[0].tolist() == [3, 3]
    assert average_range[0, 0] >= 1.0
    assert average_range[0, 1] <= 1.2


def test_it_keeps_a_trust_in_deficit_below_segment_2_in_every_replicate() -> None:
    peer_group = _peer_group([[1.0, 1.1], [2.1, 2.2]], in_deficit=[True, False])

    _, rank_range = likely_ranges(peer_group, THRESHOLDS, 300, seed=5)

    assert rank_range.tolist() == [[2, 2], [1, 1]]


def test_it_reports_progress_as_replicates_are_drawn(quarter_input: QuarterInputBuilder) -> None:
    reports: list[tuple[float, str]] = []

    compute_quarter(
        quarter_input(Q4, replicates=5000), progress=lambda *report: reports.append(report)
    )

    fractions = [fraction for fraction, _ in reports]
    assert 3 <= len(reports) <= 50
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any("replicates" in message for _, message in reports)


def test_it_skips_likely_ranges_when_asked_for_no_replicates(
    quarter_input: QuarterInputBuilder,
) -> None:
    result = compute_quarter(quarter_input(Q4, replicates=0))

    assert np.isnan(result.average_range).all()
    assert (result.rank_range == 0).all()


@pytest.mark.parametrize("workers", [1, 3])
def test_the_ranges_do_not_depend_on_how_many_threads_work_them_out(
    workers: int, quarter_input: QuarterInputBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many small chunks, so that threads finish them out of order.
    monkeypatch.setattr(bootstrap, "MOST_REPLICATES_PER_CHUNK", 7)
    reference = compute_quarter(quarter_input(Q4, replicates=700, seed=9))

    monkeypatch.setattr(bootstrap, "_WORKERS", workers)
    threaded = compute_quarter(quarter_input(Q4, replicates=700, seed=9))

    np.testing.assert_array_equal(threaded.average_range, reference.average_range)
    np.testing.assert_array_equal(threaded.rank_range, reference.rank_range)


def test_a_failure_while_ranking_a_chunk_fails_the_computation(
    quarter_input: QuarterInputBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = bootstrap.replicate_ranks

    def failing(*args: object, **kwargs: object) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise MemoryError("no room for this chunk")
        return real(*args, **kwargs)

    monkeypatch.setattr(bootstrap, "replicate_ranks", failing)
    with pytest.raises(MemoryError, match="no room"):
        compute_quarter(quarter_input(Q4, replicates=5000))
