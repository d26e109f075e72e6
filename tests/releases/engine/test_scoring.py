"""Metric scores: ranked, banded, lookup, categorical and supplied (METHODOLOGY section 3)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from releases.engine import (
    Direction,
    FrameworkIncomplete,
    MetricRule,
    ScoringMethod,
    banded_scores,
    categorical_scores,
    compute_quarter,
    lookup_scores,
    metric_scores,
    ranked_scores,
)
from tests.releases.engine.conftest import (
    COMBINED_FINANCE,
    MH_COMMUNITY_2025_26,
    QUARTERS,
    NofQuarter,
    QuarterInputBuilder,
)

STAFF_SURVEY_METRICS = ("OF0061", "OF0084")
ALL_NEEDED = np.ones(4, dtype=bool)
TRUSTS = ["RAA", "RBB", "RCC", "RDD"]


def _computed(quarter_input: QuarterInputBuilder, quarter: str, code: str) -> np.ndarray:
    inp = quarter_input(quarter, use_supplied_scores=False)
    column = [rule.code for rule in inp.rules].index(code)
    return metric_scores(inp)[:, column]


@pytest.mark.parametrize("quarter", QUARTERS)
@pytest.mark.parametrize("code", STAFF_SURVEY_METRICS)
def test_it_reproduces_published_ranked_scores_where_values_are_not_tied(
    quarter: str, code: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    values = nof[quarter].column(code)
    published = nof[quarter].column("OF1" + code[3:])
    untied = np.array([np.sum(values == value) == 1 for value in values])

    scores = _computed(quarter_input, quarter, code)

    assert untied.sum() >= 26  # 26 to 47 of 61, depending on the metric and quarter
    np.testing.assert_allclose(scores[untied], published[untied], atol=0.005 + 1e-9)


@pytest.mark.parametrize("quarter", QUARTERS)
@pytest.mark.parametrize("code", STAFF_SURVEY_METRICS)
def test_it_reproduces_every_published_ranked_score_given_the_unrounded_order(
    quarter: str, code: str, nof: dict[str, NofQuarter]
) -> None:
    # The file shows staff survey scores to 2 d.p. but NHS England ranked the unrounded ones:
    # its Rank column never ties where the shown values do. Breaking the shown ties in the
    # published order restores that order without moving any other value past a neighbour.
    data = nof[quarter]
    values = data.column(code)
    ranks = np.array([data.published_rank(code, trust) for trust in data.trust_codes])

    scores = ranked_scores(values - ranks * 1e-6, Direction.HIGHER_IS_BETTER)

    np.testing.assert_allclose(scores, data.column("OF1" + code[3:]), atol=0.005 + 1e-9)


def test_it_gives_tied_values_the_lowest_rank(
    quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    data = nof["Q1 2025/26"]
    tied = [data.trust_codes.index(code) for code in ("RVN", "RW5", "RY5")]  # all 7.01 on OF0084

    scores = _computed(quarter_input, "Q1 2025/26", "OF0084")

    # 37 trusts score higher, so all three take rank 38 of 61.
    np.testing.assert_allclose(scores[tied], 1 + 3 * 37 / 60)


def test_it_scores_ranks_from_1_to_4_by_direction() -> None:
    values = np.array([7.0, 6.0, np.nan, 5.0])

    higher = ranked_scores(values, Direction.HIGHER_IS_BETTER)
    lower = ranked_scores(values, Direction.LOWER_IS_BETTER)

    np.testing.assert_allclose(higher, [1.0, 2.5, np.nan, 4.0])
    np.testing.assert_allclose(lower, [4.0, 2.5, np.nan, 1.0])


def test_it_ranks_against_a_national_pool_when_given_one() -> None:
    peer_group = np.array([10.0, 20.0])
    national = np.array([10.0, 20.0, 15.0, 5.0, 30.0, np.nan])

    scores = ranked_scores(peer_group, Direction.LOWER_IS_BETTER, national)

    # N = 5 reported nationally: 10 is 2nd (1 + 3 x 1/4), 20 is 4th (1 + 3 x 3/4).
    np.testing.assert_allclose(scores, [1.75, 3.25])


@pytest.mark.parametrize("quarter", QUARTERS)
@pytest.mark.parametrize("code", ["OF0079", "OF0081"])
def test_it_reproduces_published_banded_finance_scores(
    quarter: str, code: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    scores = _computed(quarter_input, quarter, code)

    np.testing.assert_array_equal(scores, nof[quarter].column("OF1" + code[3:]))


@pytest.mark.parametrize("quarter", QUARTERS)
def test_it_reproduces_published_combined_finance_scores_through_the_lookup(
    quarter: str, quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    scores = _computed(quarter_input, quarter, "OF1080")

    np.testing.assert_array_equal(scores, nof[quarter].column("OF1080"))


def _without_entry(key: str) -> list[MetricRule]:
    table = {entry: score for entry, score in COMBINED_FINANCE.items() if entry != key}
    return [
        dataclasses.replace(rule, params={**rule.params, "table": table})
        if rule.code == "OF1080"
        else rule
        for rule in MH_COMMUNITY_2025_26
    ]


def test_it_refuses_to_guess_a_missing_combined_finance_pair(
    quarter_input: QuarterInputBuilder,
) -> None:
    inp = quarter_input("Q4 2025/26", use_supplied_scores=False, rules=_without_entry("2,1"))

    with pytest.raises(FrameworkIncomplete) as refused:
        compute_quarter(inp)

    assert refused.value.metric_code == "OF1080"
    assert "(OF0079, OF0081)" in str(refused.value)
    assert "2,1 (needed by " in str(refused.value)
    assert set(refused.value.missing) == {"2,1"}
    assert refused.value.missing["2,1"]


def test_it_replays_a_published_score_without_needing_the_lookup_entry(
    quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    inp = quarter_input("Q4 2025/26", rules=_without_entry("2,1"))

    scores = metric_scores(inp)

    column = [rule.code for rule in inp.rules].index("OF1080")
    np.testing.assert_array_equal(scores[:, column], nof["Q4 2025/26"].column("OF1080"))


def test_it_keys_the_lookup_on_scores_as_written() -> None:
    planned = np.array([1.0, 2.5, np.nan, 4.0])
    variance = np.array([2.0, 1.0, 1.0, 4.0])
    table = {"1,2": 1, "2.5,1": 3, "4,4": 4}

    scores = lookup_scores([planned, variance], table, "OF1080", ["A", "B"], TRUSTS, ALL_NEEDED)

    np.testing.assert_array_equal(scores, [1.0, 3.0, np.nan, 4.0])


def test_it_scores_lower_is_better_bands_by_their_maximum() -> None:
    bands = [{"max": 5, "score": 1}, {"max": 10, "score": 2}, {"max": None, "score": 3}]

    scores = banded_scores(np.array([5.0, 5.01, 99.0, np.nan]), bands, "X", TRUSTS, ALL_NEEDED)

    np.testing.assert_array_equal(scores, [1.0, 2.0, 3.0, np.nan])


def test_it_refuses_a_value_outside_every_band() -> None:
    bands = [{"min": 0, "score": 1}, {"min": -1, "score": 2}]

    with pytest.raises(FrameworkIncomplete, match=r"no band for the value: -3.0 \(needed by RCC\)"):
        banded_scores(np.array([1.0, -0.5, -3.0, np.nan]), bands, "OF0079", TRUSTS, ALL_NEEDED)


def test_it_scores_cqc_ratings_through_the_category_table() -> None:
    categories = {"Outstanding": 1, "Good": 2, "Requires improvement": 3, "Inadequate": 4}

    scores = categorical_scores(
        ["Good\xa0", None, "Inadequate", "Outstanding"], categories, "OF1067", TRUSTS, ALL_NEEDED
    )

    np.testing.assert_array_equal(scores, [2.0, np.nan, 4.0, 1.0])


def test_it_refuses_an_unknown_category() -> None:
    with pytest.raises(FrameworkIncomplete, match=r"Not rated \(needed by RAA, RDD\)"):
        categorical_scores(
            ["Not rated", "Good", None, "Not rated"], {"Good": 2}, "OF1067", TRUSTS, ALL_NEEDED
        )


def _one_metric_rule(method: ScoringMethod) -> MetricRule:
    return MetricRule(
        "OF0084", "People and workforce", Direction.HIGHER_IS_BETTER, method, True, {}
    )


@pytest.mark.parametrize(
    ("use_supplied_scores", "expected"),
    [(True, [3.5, 2.5, 1.0]), (False, [4.0, 2.5, 1.0])],
)
def test_it_lets_supplied_scores_win_only_in_a_replay(
    use_supplied_scores: bool, expected: list[float], quarter_input: QuarterInputBuilder
) -> None:
    inp = quarter_input("Q4 2025/26", use_supplied_scores=use_supplied_scores)
    inp = dataclasses.replace(
        inp,
        trust_codes=["RAA", "RBB", "RCC"],
        rules=[_one_metric_rule(ScoringMethod.RANKED)],
        values=np.array([[1.0], [2.0], [3.0]]),
        supplied_scores=np.array([[3.5], [np.nan], [np.nan]]),
        in_deficit=np.zeros(3, dtype=bool),
        in_recovery_support=np.zeros(3, dtype=bool),
    )

    np.testing.assert_allclose(metric_scores(inp)[:, 0], expected)


def test_it_uses_supplied_scores_for_supplied_metrics_outside_a_replay(
    quarter_input: QuarterInputBuilder, nof: dict[str, NofQuarter]
) -> None:
    scores = _computed(quarter_input, "Q4 2025/26", "OF1035")

    np.testing.assert_array_equal(scores, nof["Q4 2025/26"].column("OF1035"))


def test_it_refuses_a_lookup_on_a_metric_the_framework_lacks(
    quarter_input: QuarterInputBuilder,
) -> None:
    rules = [
        dataclasses.replace(rule, params={**rule.params, "inputs": ["OF0079", "OF9999"]})
        if rule.code == "OF1080"
        else rule
        for rule in MH_COMMUNITY_2025_26
    ]

    with pytest.raises(
        FrameworkIncomplete, match=r"^OF1080: lookup input is not a metric .*: OF9999$"
    ):
        metric_scores(quarter_input("Q4 2025/26", rules=rules))
