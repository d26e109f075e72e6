"""What each scoring method's parameters must hold, checked when a definition is saved.

Regulators edit parameters as JSON in the admin, and data migrations write them; a definition
that the engine cannot use (a banded metric without bands) is refused there with the reason,
never discovered as a KeyError when a release is computed. The shapes are the engine's
(`releases.engine.types.MetricRule`); scores run from 1 (best) to 4.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError

LOWEST_SCORE, HIGHEST_SCORE = 1, 4

# Method → the keys its parameters must have; ranked and supplied scores take none.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "ranked": (),
    "supplied": (),
    "banded": ("bands",),
    "lookup": ("inputs", "table"),
    "categorical": ("categories",),
}
EXAMPLES = {
    "ranked": "{}",
    "supplied": "{}",
    "banded": '{"bands": [{"min": 95, "score": 1}, {"min": 90, "score": 2}, '
    '{"min": null, "score": 4}]}',
    "lookup": '{"inputs": ["OF0079", "OF0081"], "table": {"1,1": 1, "1,4": 2.5, ...}}',
    "categorical": '{"categories": {"Outstanding": 1, "Good": 2, ...}}',
}


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _score_problem(where: str, value: Any) -> str | None:
    if not _is_number(value):
        return f"{where}: the score {value!r} is not a number."
    if not LOWEST_SCORE <= value <= HIGHEST_SCORE:
        return f"{where}: the score {value!r} is outside {LOWEST_SCORE} to {HIGHEST_SCORE}."
    return None


def _bands_problems(bands: Any) -> list[str]:
    if not isinstance(bands, list) or not bands:
        return ['"bands" must be a list of at least one band, best band first.']
    problems = []
    for n, band in enumerate(bands, start=1):
        where = f"band {n}"
        if not isinstance(band, dict):
            problems.append(f'{where} must be an object such as {{"min": 95, "score": 1}}.')
            continue
        unknown = sorted(set(band) - {"min", "max", "score"})
        if unknown:
            problems.append(f"{where} has unknown keys {', '.join(unknown)} (min, max, score).")
        if "score" not in band:
            problems.append(f'{where} has no "score".')
        elif problem := _score_problem(where, band["score"]):
            problems.append(problem)
        for bound in ("min", "max"):
            if band.get(bound) is not None and not _is_number(band[bound]):
                problems.append(f"{where}: {bound} {band[bound]!r} is not a number or null.")
        low, high = band.get("min"), band.get("max")
        if _is_number(low) and _is_number(high) and low > high:
            problems.append(f"{where}: min {low} is above max {high}.")
    return problems


def _lookup_problems(params: dict[str, Any], known_codes: Collection[str] | None) -> list[str]:
    problems = []
    inputs, table = params.get("inputs"), params.get("table")
    if (
        not isinstance(inputs, list)
        or len(inputs) < 1
        or not all(isinstance(code, str) and code for code in inputs)
    ):
        problems.append('"inputs" must be a list of metric codes, e.g. ["OF0079", "OF0081"].')
        inputs = None
    elif len(set(inputs)) != len(inputs):
        problems.append('"inputs" names a metric twice.')
    elif known_codes is not None and (unknown := [c for c in inputs if c not in known_codes]):
        problems.append(f'"inputs" names unknown metrics: {", ".join(unknown)}.')
    if not isinstance(table, dict) or not table:
        problems.append('"table" must map input scores ("1,4") to a score.')
        return problems
    for key, score in table.items():
        parts = str(key).split(",")
        if inputs is not None and len(parts) != len(inputs):
            problems.append(
                f'table entry "{key}": needs {len(inputs)} comma-separated scores, one per input.'
            )
        elif not all(_is_number(_to_number(part)) for part in parts):
            problems.append(f'table entry "{key}": the input scores must be numbers.')
        if problem := _score_problem(f'table entry "{key}"', score):
            problems.append(problem)
    return problems


def _to_number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _categories_problems(categories: Any) -> list[str]:
    if not isinstance(categories, dict) or not categories:
        return ['"categories" must map each rating to a score, e.g. {"Good": 2}.']
    return [
        problem
        for rating, score in categories.items()
        if (problem := _score_problem(f'category "{rating}"', score))
    ]


def params_problems(
    method: str, params: Any, known_codes: Collection[str] | None = None
) -> list[str]:
    """Every reason these parameters cannot score a metric by `method` (empty: they can).

    `known_codes`, when given, are the metric codes a lookup's inputs may name.
    """
    if method not in REQUIRED_KEYS:
        return [f"Unknown scoring method {method!r}."]
    if not isinstance(params, dict):
        return [f"Parameters must be a JSON object, e.g. {EXAMPLES[method]}."]
    required = REQUIRED_KEYS[method]
    problems = []
    missing = [key for key in required if key not in params]
    if missing:
        named = " and ".join(f'"{key}"' for key in missing)
        problems.append(f"The {method} method needs {named}: for example {EXAMPLES[method]}.")
    unknown = sorted(set(params) - set(required))
    if unknown:
        expected = ", ".join(required) or "no parameters"
        problems.append(
            f"Unknown parameters for the {method} method: {', '.join(unknown)} "
            f"(it takes {expected})."
        )
    if missing:
        return problems
    if method == "banded":
        problems += _bands_problems(params["bands"])
    elif method == "lookup":
        problems += _lookup_problems(params, known_codes)
    elif method == "categorical":
        problems += _categories_problems(params["categories"])
    return problems


def validate_params(
    method: str, params: Any, known_codes: Collection[str] | None = None, *, metric: str = ""
) -> None:
    """Raise a ValidationError on `params` listing every problem, naming the metric."""
    problems = params_problems(method, params, known_codes)
    if problems:
        prefix = f"{metric}: " if metric else ""
        raise ValidationError({"params": [prefix + problem for problem in problems]})
