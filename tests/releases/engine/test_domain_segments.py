"""Domain segments (METHODOLOGY section 4.6): three thresholds per domain and quarter."""

from __future__ import annotations

import numpy as np
import pytest

from releases.engine import Direction, MetricRule, QuarterInput, ScoringMethod, compute_quarter
from tests.releases.engine.conftest import (
    DOMAIN_SCORE_IDS,
    DOMAIN_SEGMENT_IDS,
    DOMAIN_THRESHOLDS,
    QUARTERS,
    NofQuarter,
    QuarterInputBuilder,
)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_it_reproduces_every_published_domain_segment(
    quarter: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    result = compute_quarter(quarter_input(quarter))

    for domain, segment_id in DOMAIN_SEGMENT_IDS.items():
        published = np.nan_to_num(nof[quarter].column(segment_id)).astype(np.int64)
        assert np.count_nonzero(published) >= 58, segment_id
        np.testing.assert_array_equal(
            result.domain_segments[domain], published, err_msg=f"{quarter} {segment_id}"
        )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_the_chosen_thresholds_lie_inside_the_published_intervals(
    quarter: str, nof: dict[str, NofQuarter]
) -> None:
    """Each threshold lies strictly between the highest published domain score of one segment
    and the lowest of the next: the intervals METHODOLOGY 4.6 lists."""
    for domain, score_id in DOMAIN_SCORE_IDS.items():
        scores = nof[quarter].column(score_id)
        segments = nof[quarter].column(DOMAIN_SEGMENT_IDS[domain])
        for segment, threshold in enumerate(DOMAIN_THRESHOLDS[quarter][domain], start=1):
            highest_below = scores[segments == segment].max()
            lowest_above = scores[segments == segment + 1].min()
            assert highest_below < threshold < lowest_above, (quarter, score_id, segment)


def test_it_stores_the_thresholds_each_domain_was_segmented_with(
    quarter_input: QuarterInputBuilder,
) -> None:
    result = compute_quarter(quarter_input("Q4 2025/26"))

    assert result.domain_thresholds == DOMAIN_THRESHOLDS["Q4 2025/26"]


def _domain_quarter(access: list[float], safety: list[float], thresholds: dict) -> QuarterInput:
    """One supplied metric per domain, one trust per row (NaN: no score in that domain)."""
    trusts = len(access)
    return QuarterInput(
        trust_codes=[f"T{index}" for index in range(trusts)],
        rules=[
            MetricRule("A1", "access", Direction.LOWER_IS_BETTER, ScoringMethod.SUPPLIED, True),
            MetricRule("S1", "safety", Direction.LOWER_IS_BETTER, ScoringMethod.SUPPLIED, True),
        ],
        values=np.full((trusts, 2), np.nan),
        supplied_scores=np.column_stack([access, safety]),
        category_values={},
        pool_values={},
        in_deficit=np.array([True] + [False] * (trusts - 1)),
        in_recovery_support=np.array([False] * (trusts - 1) + [True]),
        thresholds=(2.0, 2.5, 3.0),
        domain_thresholds=thresholds,
        replicates=0,
        use_supplied_scores=True,
    )


def test_a_score_equal_to_a_threshold_is_in_the_better_segment() -> None:
    result = compute_quarter(
        _domain_quarter([2.0, 2.0000001, 2.5, 3.0, 3.01], [1.0] * 5, {"access": (2.0, 2.5, 3.0)})
    )

    assert result.domain_segments["access"].tolist() == [1, 2, 2, 3, 4]


def test_no_financial_override_or_segment_5_applies_to_a_domain() -> None:
    # The first trust is in deficit and the last in the Recovery Support Programme.
    result = compute_quarter(
        _domain_quarter([1.0, 2.0, 3.5], [1.0, 1.0, 1.0], {"access": (1.5, 2.5, 3.0)})
    )

    assert result.final_segment.tolist()[0] == 3
    assert result.final_segment.tolist()[-1] == 5
    assert result.domain_segments["access"].tolist() == [1, 2, 4]


def test_a_domain_without_thresholds_takes_quartiles_of_its_2dp_scores() -> None:
    safety = [1.0, 1.5, 2.0, 2.5, 3.0]

    result = compute_quarter(_domain_quarter([1.0] * 5, safety, {"access": (1.5, 2.5, 3.0)}))

    # Linear quartiles of 1.0, 1.5, 2.0, 2.5, 3.0: 1.5, 2.0, 2.5.
    assert result.domain_thresholds["safety"] == (1.5, 2.0, 2.5)
    assert result.domain_segments["safety"].tolist() == [1, 1, 2, 3, 4]


def test_a_trust_with_no_score_in_a_domain_has_no_segment_in_it() -> None:
    result = compute_quarter(
        _domain_quarter([1.0, np.nan, 3.0], [2.0, 2.0, 2.0], {"access": (1.5, 2.5, 3.0)})
    )

    assert result.domain_segments["access"].tolist() == [1, 0, 3]
    assert np.isnan(result.domain_scores["access"][1])


def test_a_domain_nobody_has_a_score_in_has_no_thresholds() -> None:
    result = compute_quarter(_domain_quarter([np.nan, np.nan], [1.0, 2.0], {}))

    assert result.domain_segments["access"].tolist() == [0, 0]
    assert "access" not in result.domain_thresholds
