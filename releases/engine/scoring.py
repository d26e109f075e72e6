"""Metric scores from 1.00 (best) to 4.00 (worst): METHODOLOGY section 3.

Scores are never rounded here: NHS England averages unrounded metric scores (averaging the
published 2 d.p. scores misses 13 of the 244 published 2025/26 averages by 0.01).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from releases.engine.types import (
    BoolArray,
    Direction,
    FloatArray,
    FrameworkIncomplete,
    MetricRule,
    QuarterInput,
    ScoringMethod,
)


def ranked_scores(
    values: FloatArray, direction: Direction, pool: FloatArray | None = None
) -> FloatArray:
    """Score = 1 + 3(r - 1)/(N - 1), r the rank within the pool (ties share the lowest rank).

    ``pool`` is every value the metric is ranked against (the national pool, or by default the
    trusts themselves); N counts the pool's reported values. A pool of one trust scores 1.
    """
    ranked_against = values if pool is None else np.asarray(pool, dtype=np.float64)
    ordered = np.sort(ranked_against[~np.isnan(ranked_against)])
    scores = np.full(values.shape, np.nan)
    reported = ~np.isnan(values)
    if direction == Direction.HIGHER_IS_BETTER:
        better = ordered.size - np.searchsorted(ordered, values[reported], side="right")
    else:
        better = np.searchsorted(ordered, values[reported], side="left")
    spread = max(ordered.size - 1, 1)
    scores[reported] = 1.0 + 3.0 * better / spread
    return scores


def banded_scores(
    values: FloatArray,
    bands: Sequence[Mapping[str, Any]],
    metric_code: str,
    trust_codes: Sequence[str],
    needed: BoolArray,
) -> FloatArray:
    """Score from fixed bands on the value, the first matching band winning (best band first).

    A band matches a value >= its ``min`` and <= its ``max``; a missing or null bound is open,
    so ``{"min": None, "score": 4}`` is the catch-all.
    """
    scores = np.full(values.shape, np.nan)
    unbanded = ~np.isnan(values)
    for band in bands:
        matches = unbanded.copy()
        if band.get("min") is not None:
            matches &= values >= float(band["min"])
        if band.get("max") is not None:
            matches &= values <= float(band["max"])
        scores[matches] = float(band["score"])
        unbanded &= ~matches
    _refuse_to_guess(
        metric_code,
        "no band for the value",
        lambda row: repr(float(values[row])),
        unbanded & needed,
        trust_codes,
    )
    return scores


def lookup_scores(
    input_scores: Sequence[FloatArray],
    table: Mapping[str, float],
    metric_code: str,
    input_codes: Sequence[str],
    trust_codes: Sequence[str],
    needed: BoolArray,
) -> FloatArray:
    """Score from the input metrics' scores through a table keyed "score1,score2".

    Keys are the input scores as written ("1,4"; "2.5,1" for a non-whole score): a combination
    the table lacks raises FrameworkIncomplete rather than being guessed (METHODOLOGY section 8).
    """
    trusts = len(trust_codes)
    stacked = np.column_stack(input_scores) if input_scores else np.empty((trusts, 0))
    scores = np.full(trusts, np.nan)
    complete = np.flatnonzero(~np.isnan(stacked).any(axis=1))
    missing = np.zeros(trusts, dtype=bool)
    # Few distinct combinations however many trusts: look each one up once.
    combinations, which = np.unique(stacked[complete], axis=0, return_inverse=True)
    for index, combination in enumerate(combinations):
        rows = complete[which.ravel() == index]
        key = _lookup_key(combination)
        if key in table:
            scores[rows] = float(table[key])
        else:
            missing[rows] = True
    _refuse_to_guess(
        metric_code,
        f"no lookup table entry for the scores of ({', '.join(input_codes)})",
        lambda row: _lookup_key(stacked[row]),
        missing & needed,
        trust_codes,
    )
    return scores


def categorical_scores(
    ratings: Sequence[str | None],
    categories: Mapping[str, float],
    metric_code: str,
    trust_codes: Sequence[str],
    needed: BoolArray,
) -> FloatArray:
    """Score a rating (e.g. a CQC rating) through the framework's category table."""
    # Published files pad text with (non-breaking) spaces; the rating itself is case-sensitive.
    cleaned = [None if rating is None else rating.strip() for rating in ratings]
    scores = np.full(len(trust_codes), np.nan)
    unknown = np.zeros(len(trust_codes), dtype=bool)
    for row, rating in enumerate(cleaned):
        if not rating:
            continue
        if rating in categories:
            scores[row] = float(categories[rating])
        else:
            unknown[row] = True
    _refuse_to_guess(
        metric_code,
        "no score for the category",
        lambda row: cleaned[row] or "",
        unknown & needed,
        trust_codes,
    )
    return scores


def metric_scores(quarter: QuarterInput) -> FloatArray:
    """Every trust's score on every metric (N x M, NaN where the trust has none).

    With ``use_supplied_scores`` a supplied score wins over computing (replaying a published
    file); otherwise supplied scores are only used by metrics whose method is SUPPLIED.
    """
    trusts = len(quarter.trust_codes)
    scores = np.full((trusts, len(quarter.rules)), np.nan)
    has_supplied = ~np.isnan(quarter.supplied_scores)
    for column in _evaluation_order(quarter.rules):
        overridden = (
            has_supplied[:, column] if quarter.use_supplied_scores else np.zeros(trusts, bool)
        )
        computed = _score_metric(quarter, column, scores, needed=~overridden)
        scores[:, column] = np.where(overridden, quarter.supplied_scores[:, column], computed)
    return scores


def _score_metric(
    quarter: QuarterInput, column: int, scores: FloatArray, needed: BoolArray
) -> FloatArray:
    rule = quarter.rules[column]
    values = quarter.values[:, column]
    if rule.method == ScoringMethod.RANKED:
        return ranked_scores(values, rule.direction, quarter.pool_values.get(rule.code))
    if rule.method == ScoringMethod.BANDED:
        return banded_scores(values, rule.params["bands"], rule.code, quarter.trust_codes, needed)
    if rule.method == ScoringMethod.LOOKUP:
        columns = {other.code: index for index, other in enumerate(quarter.rules)}
        inputs = list(rule.params["inputs"])
        return lookup_scores(
            [scores[:, columns[code]] for code in inputs],
            rule.params["table"],
            rule.code,
            inputs,
            quarter.trust_codes,
            needed,
        )
    if rule.method == ScoringMethod.CATEGORICAL:
        ratings = quarter.category_values.get(rule.code, [None] * len(quarter.trust_codes))
        return categorical_scores(
            ratings, rule.params["categories"], rule.code, quarter.trust_codes, needed
        )
    return quarter.supplied_scores[:, column].copy()


def _evaluation_order(rules: Sequence[MetricRule]) -> list[int]:
    """Column order in which every lookup comes after the metrics it is computed from."""
    columns = {rule.code: index for index, rule in enumerate(rules)}
    for rule in rules:
        if rule.method == ScoringMethod.LOOKUP:
            unknown = [code for code in rule.params["inputs"] if code not in columns]
            if unknown:
                raise FrameworkIncomplete(
                    rule.code,
                    "lookup input is not a metric of the framework",
                    {code: [] for code in unknown},
                )
    order: list[int] = []
    placed: set[str] = set()
    while len(order) < len(rules):
        ready = [
            index
            for index, rule in enumerate(rules)
            if rule.code not in placed
            and (rule.method != ScoringMethod.LOOKUP or placed.issuperset(rule.params["inputs"]))
        ]
        if not ready:
            raise ValueError("lookup metrics depend on each other in a cycle")
        order.extend(ready)
        placed.update(rules[index].code for index in ready)
    return order


def _lookup_key(scores: FloatArray) -> str:
    """Input scores as a lookup table writes them: "1,4", or "2.5,1" for a non-whole score."""
    return ",".join(
        str(int(score)) if float(score).is_integer() else repr(float(score)) for score in scores
    )


def _refuse_to_guess(
    metric_code: str,
    problem: str,
    entry_of: Callable[[int], str],
    missing: BoolArray,
    trust_codes: Sequence[str],
) -> None:
    if not missing.any():
        return
    needed_by: dict[str, list[str]] = {}
    for row in np.flatnonzero(missing):
        needed_by.setdefault(entry_of(int(row)), []).append(trust_codes[row])
    raise FrameworkIncomplete(metric_code, problem, needed_by)
