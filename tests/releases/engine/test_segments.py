"""Averages, segments and league positions (METHODOLOGY sections 4 and 5)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from releases.engine import (
    Direction,
    MetricRule,
    QuarterInput,
    QuarterResult,
    ScoringMethod,
    competition_ranks,
    compute_quarter,
    metric_peer_statistics,
    quartile_thresholds,
    round_half_up,
)
from releases.engine.segments import _ranks_by_counting, _ranks_by_sorting
from tests.releases.engine.conftest import (
    MH_COMMUNITY_2025_26,
    QUARTERS,
    NofQuarter,
    QuarterInputBuilder,
)

THRESHOLDS = (2.065, 2.30, 2.585)


def _quarter(
    scores: list[list[float]],
    *,
    in_deficit: list[bool] | None = None,
    in_recovery_support: list[bool] | None = None,
    thresholds: tuple[float, float, float] | None = THRESHOLDS,
    quartile_pool_averages: np.ndarray | None = None,
) -> QuarterInput:
    """A peer group whose metric scores are supplied: one row of scores per trust."""
    trusts = len(scores)
    metrics = max(len(row) for row in scores)
    supplied = np.full((trusts, metrics), np.nan)
    for index, row in enumerate(scores):
        supplied[index, : len(row)] = row
    return QuarterInput(
        trust_codes=[f"T{index:02d}" for index in range(trusts)],
        rules=[
            MetricRule(
                f"OF{1000 + metric}",
                "Patient safety" if metric % 2 else "Access to services",
                Direction.LOWER_IS_BETTER,
                ScoringMethod.SUPPLIED,
                True,
                {},
            )
            for metric in range(metrics)
        ],
        values=np.full((trusts, metrics), np.nan),
        supplied_scores=supplied,
        category_values={},
        pool_values={},
        in_deficit=np.array(in_deficit or [False] * trusts),
        in_recovery_support=np.array(in_recovery_support or [False] * trusts),
        thresholds=thresholds,
        quartile_pool_averages=quartile_pool_averages,
        replicates=0,
    )


def _averages(result: QuarterResult) -> list[str]:
    return [str(average) for average in result.average]


def test_it_rounds_half_up_on_the_decimal_value() -> None:
    assert round_half_up(3.085) == Decimal("3.09")
    assert round_half_up(2.675) == Decimal("2.68")  # the float is 2.67499999...
    assert round_half_up(Decimal("1.005")) == Decimal("1.01")
    assert round_half_up(2, 0) == Decimal("2")


def test_it_averages_scores_exactly_before_rounding_half_up() -> None:
    # TAJ's Q4 2025/26 scores: their mean is exactly 3.085, but the float nearest 3.085 is
    # below it, so binary rounding gives 3.08 and breaks TAJ's published tie with RMY.
    taj = [2.41, 3.74, 2.0, 3.48, 3.8, 3.17, 1.0, 3.79, 3.8, 3.66]
    assert round(sum(taj) / len(taj), 2) == 3.08

    result = compute_quarter(_quarter([taj]))

    assert result.average == [Decimal("3.09")]


def test_it_shares_tied_ranks_and_skips_the_next() -> None:
    averages = [1.5 + index / 100 for index in range(10)] + [2.01, 2.01, 2.01, 2.02]

    result = compute_quarter(_quarter([[average] for average in averages]))

    assert result.rank.tolist() == [*range(1, 11), 11, 11, 11, 14]


def test_it_ranks_on_the_rounded_average() -> None:
    result = compute_quarter(_quarter([[2.0, 2.01], [2.01, 2.0], [2.004, 2.0]]))

    assert _averages(result) == ["2.01", "2.01", "2.00"]
    assert result.rank.tolist() == [2, 2, 1]


def test_it_segments_the_average_by_the_thresholds() -> None:
    result = compute_quarter(_quarter([[2.065], [2.07], [2.30], [2.305], [2.585], [2.59]]))

    assert result.unadjusted_segment.tolist() == [1, 2, 2, 3, 3, 4]


def test_it_segments_the_unrounded_average() -> None:
    # RAT's replayed Q3 average: shows as 2.07 (= t1) but is above it.
    result = compute_quarter(_quarter([[2.07, 2.079]], thresholds=(2.07, 2.355, 2.72)))

    assert _averages(result) == ["2.07"]
    assert result.unadjusted_segment.tolist() == [2]


def test_it_caps_a_trust_in_deficit_at_segment_3() -> None:
    result = compute_quarter(
        _quarter([[1.5], [2.12], [2.2], [2.9]], in_deficit=[True, True, False, True])
    )

    assert result.unadjusted_segment.tolist() == [1, 2, 2, 4]
    assert result.final_segment.tolist() == [3, 3, 2, 4]
    # A capped trust ranks below every segment 2 trust, however good its average.
    assert result.rank.tolist() == [2, 3, 1, 4]


def test_it_puts_a_recovery_support_trust_in_segment_5_whatever_its_score() -> None:
    result = compute_quarter(
        _quarter([[1.2], [2.9], [1.1]], in_recovery_support=[False, False, True])
    )

    assert result.adjusted_segment.tolist() == [1, 4, 1]
    assert result.final_segment.tolist() == [1, 4, 5]
    assert result.rank.tolist() == [1, 2, 3]


def test_it_can_rank_recovery_support_trusts_by_their_adjusted_segment() -> None:
    inp = _quarter([[1.2], [2.9], [1.1]], in_recovery_support=[False, False, True])
    inp.rank_on_adjusted_segment = True

    result = compute_quarter(inp)

    assert result.final_segment.tolist() == [1, 4, 5]
    assert result.rank.tolist() == [2, 3, 1]


def test_it_leaves_a_trust_with_no_scores_out_of_the_table() -> None:
    inp = _quarter([[1.5, 2.5], [np.nan, np.nan], [3.0]], in_deficit=[False, True, False])
    inp.in_recovery_support[1] = True
    inp.replicates = 50

    result = compute_quarter(inp)

    assert result.average == [Decimal("2.00"), None, Decimal("3.00")]
    assert np.isnan(result.average_exact[1])
    assert result.unadjusted_segment.tolist() == [1, 0, 4]
    assert result.final_segment.tolist() == [1, 0, 4]
    assert result.rank.tolist() == [1, 0, 2]
    assert np.isnan(result.average_range[1]).all()
    assert result.rank_range[1].tolist() == [0, 0]
    assert result.unscored_trust_codes == ["T01"]
    assert np.isnan(result.domain_scores["Access to services"][1])


def test_it_computes_no_table_for_a_peer_group_without_scores() -> None:
    inp = _quarter([[np.nan], [np.nan]], quartile_pool_averages=np.array([2.0, 2.5]))
    inp.thresholds = None
    inp.replicates = 10

    result = compute_quarter(inp)

    assert result.rank.tolist() == [0, 0]
    assert result.unscored_trust_codes == ["T00", "T01"]


def test_it_takes_thresholds_from_the_quartiles_of_the_averages() -> None:
    averages = [[1.8], [2.0], [2.1], [2.2], [2.5], [2.6], [3.0], [3.3]]

    result = compute_quarter(_quarter(averages, thresholds=None))

    # Linear interpolation (Excel QUARTILE.INC): positions 1.75, 3.5 and 5.25 of 0..7.
    assert result.thresholds == (2.075, 2.35, 2.7)
    assert result.unadjusted_segment.tolist() == [1, 1, 2, 2, 3, 3, 4, 4]


def test_it_takes_thresholds_from_a_chosen_pool_of_averages() -> None:
    pool = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])

    result = compute_quarter(_quarter([[2.0], [3.5]], thresholds=None, quartile_pool_averages=pool))

    assert result.thresholds == quartile_thresholds(pool) == (2.0, 3.0, 4.0)
    assert result.unadjusted_segment.tolist() == [1, 3]


def test_it_ranks_the_same_by_counting_and_by_sorting() -> None:
    keys = np.random.default_rng(7).integers(0, 50, size=(20, 300))

    counted = _ranks_by_counting(keys, 50)

    np.testing.assert_array_equal(counted, _ranks_by_sorting(keys, 50))
    np.testing.assert_array_equal(competition_ranks(keys * 10**9), counted)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_it_reproduces_the_published_domain_scores(
    quarter: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    result = compute_quarter(quarter_input(quarter))
    published = {
        "Access to services": "OF4000",
        "Patient safety": "OF4002",
        "Finance and productivity": "OF4003",
        "People and workforce": "OF4004",
        "Effectiveness and experience": "OF4005",
    }

    for domain, metric_id in published.items():
        np.testing.assert_allclose(
            result.domain_scores[domain], nof[quarter].column(metric_id), atol=0.01 + 1e-9
        )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_it_reproduces_the_published_peer_medians_and_quartiles(
    quarter: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    data = nof[quarter]
    inp = quarter_input(quarter)

    median, lower, upper = metric_peer_statistics(inp.values)

    for column, rule in enumerate(MH_COMMUNITY_2025_26):
        cells = [data.cell(rule.code, code) for code in data.trust_codes]
        published = next((cell for cell in cells if cell.median is not None), None)
        if published is None:
            assert np.isnan(median[column])
            continue
        # Within 0.01: NHS England interpolated unrounded values, the file shows 2 d.p.
        assert median[column] == pytest.approx(published.median, abs=0.01)
        assert lower[column] == pytest.approx(published.lower_quartile, abs=0.01)
        assert upper[column] == pytest.approx(published.upper_quartile, abs=0.01)
