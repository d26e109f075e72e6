"""Replaying NHS England's published 2025/26 scores reproduces its published league tables."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from releases.engine import compute_quarter, format_number
from releases.engine.segments import league_positions
from tests.releases.engine.conftest import QUARTERS, NofQuarter, QuarterInputBuilder

Q4 = "Q4 2025/26"


def _published_range(text: str) -> tuple[float, float]:
    low, high = text.split(" to ")
    return float(low), float(high)


def test_it_reproduces_the_published_q4_segments_ranks_and_averages(
    quarter_input: QuarterInputBuilder, published_league_table: list[dict[str, str]]
) -> None:
    codes = [row["Trust_code"] for row in published_league_table]
    result = compute_quarter(quarter_input(Q4, trust_codes=codes))

    for row, segment, rank, average in zip(
        published_league_table, result.final_segment, result.rank, result.average, strict=True
    ):
        assert segment == float(row["Segment"]), row["Trust_code"]
        assert rank == float(row["Rank"]), row["Trust_code"]
        assert average is not None
        assert abs(average - Decimal(row["Average_score"])) <= Decimal("0.01"), row["Trust_code"]


def test_it_ties_taj_and_rmy_at_rank_58_by_rounding_3_085_half_up(
    quarter_input: QuarterInputBuilder,
) -> None:
    result = compute_quarter(quarter_input(Q4))
    taj, rmy = result.trust_codes.index("TAJ"), result.trust_codes.index("RMY")

    assert result.average_exact[taj] == pytest.approx(3.085)
    assert result.average[taj] == Decimal("3.09")
    assert result.rank[taj] == result.rank[rmy] == 58


def test_it_matches_most_published_averages_exactly_and_all_within_a_hundredth(
    quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    exact = total = 0
    for quarter in QUARTERS:
        result = compute_quarter(quarter_input(quarter))
        published = nof[quarter].column("OF5002")
        ours = np.array([float(average) for average in result.average])
        assert np.all(np.abs(ours - published) <= 0.01 + 1e-9), quarter
        exact += int(np.sum(np.abs(ours - published) < 1e-9))
        total += len(ours)

    # The other 13 differ by 0.01 because NHS England averaged unrounded scores, of which the
    # file publishes only 2 d.p.
    assert (exact, total) == (231, 244)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_it_reproduces_the_published_segments_every_quarter(
    quarter: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    data = nof[quarter]
    result = compute_quarter(quarter_input(quarter))

    np.testing.assert_array_equal(result.unadjusted_segment, data.column("OF5003"))
    np.testing.assert_array_equal(result.adjusted_segment, data.column("OF5000"))
    if "OF5005" in data.rows:
        np.testing.assert_array_equal(result.final_segment, data.column("OF5005"))
    else:
        np.testing.assert_array_equal(result.final_segment, data.column("OF5000"))


def test_it_reproduces_the_published_ranks_every_quarter(
    quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    # NHS England's Q1 and Q2 files rank the Recovery Support Programme trusts (RHA, RW1, RXV)
    # by their adjusted segment, not in segment 5 below everyone (METHODOLOGY section 5).
    exact = 0
    for quarter in QUARTERS:
        result = compute_quarter(quarter_input(quarter, rank_on_adjusted_segment=True))
        published = np.array(
            [nof[quarter].published_rank("OF5000", code) for code in result.trust_codes]
        )
        assert np.all(np.abs(result.rank - published) <= 1), quarter
        exact += int(np.sum(result.rank == published))

    # The 5 others sit next to a trust whose replayed average is 0.01 off the published one.
    assert exact == 239


@pytest.mark.parametrize("quarter", QUARTERS)
def test_it_ranks_the_published_averages_exactly_as_published(
    quarter: str, nof: dict[str, NofQuarter]
) -> None:
    data = nof[quarter]
    hundredths = np.rint(data.column("OF5002") * 100).astype(np.int64)
    adjusted_segments = data.column("OF5000").astype(np.int64)
    published = np.array([data.published_rank("OF5000", code) for code in data.trust_codes])

    np.testing.assert_array_equal(league_positions(adjusted_segments, hundredths), published)


def test_it_ranks_recovery_support_trusts_last_by_default(
    quarter_input: QuarterInputBuilder,
) -> None:
    result = compute_quarter(quarter_input("Q1 2025/26"))
    in_segment_5 = result.final_segment == 5

    assert sorted(np.array(result.trust_codes)[in_segment_5]) == ["RHA", "RW1", "RXV"]
    assert result.rank[in_segment_5].min() > result.rank[~in_segment_5].max()


def test_it_reproduces_the_published_q4_likely_ranges(
    quarter_input: QuarterInputBuilder, published_league_table: list[dict[str, str]]
) -> None:
    codes = [row["Trust_code"] for row in published_league_table]
    result = compute_quarter(quarter_input(Q4, trust_codes=codes, replicates=5000, seed=1))

    matching = _matching_likely_ranges(
        result.average_range, result.rank_range, published_league_table
    )

    assert matching >= 58


@pytest.mark.parametrize("seed", range(2, 12))
def test_it_reproduces_the_published_likely_ranges_whatever_the_seed(
    seed: int, quarter_input: QuarterInputBuilder, published_league_table: list[dict[str, str]]
) -> None:
    codes = [row["Trust_code"] for row in published_league_table]
    result = compute_quarter(quarter_input(Q4, trust_codes=codes, replicates=5000, seed=seed))

    matching = _matching_likely_ranges(
        result.average_range, result.rank_range, published_league_table
    )

    assert matching >= 58


def _matching_likely_ranges(
    average_range: np.ndarray, rank_range: np.ndarray, published: list[dict[str, str]]
) -> int:
    """Trusts whose ranges are within 0.05 (average) and 3 places (rank) of NHS England's."""
    matching = 0
    for row, (average_low, average_high), (rank_low, rank_high) in zip(
        published, average_range, rank_range, strict=True
    ):
        published_average = _published_range(row["Likely_range_of_average_score"])
        published_rank = _published_range(row["Likely_range_of_rank"])
        ours_average = (float(format_number(average_low)), float(format_number(average_high)))
        close_average = all(
            abs(ours - theirs) <= 0.05 + 1e-9
            for ours, theirs in zip(ours_average, published_average, strict=True)
        )
        close_rank = all(
            abs(ours - theirs) <= 3
            for ours, theirs in zip((rank_low, rank_high), published_rank, strict=True)
        )
        matching += close_average and close_rank
    return matching
