"""What the scoring engine takes in and gives back, in the NHS Oversight Framework's words.

Inputs and outputs are columnar (one NumPy row per trust, one column per metric) so that a
league table of 10,000 providers and 40 metrics is scored without a Python loop over trusts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Called with (fraction done, what is happening) so that a Celery task can report progress.
ProgressCallback = Callable[[float, str], None]


class ScoringMethod(StrEnum):
    RANKED = "ranked"
    BANDED = "banded"
    LOOKUP = "lookup"
    CATEGORICAL = "categorical"
    SUPPLIED = "supplied"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class FrameworkIncomplete(Exception):
    """The framework has no rule for data a release needs: a regulator must add it first.

    Raised instead of guessing (METHODOLOGY section 8), e.g. for a combined-finance pair with no
    entry in the lookup table. ``missing`` maps each missing entry (a lookup key such as "2,4", a
    category, a value outside every band) to the trusts that need it.
    """

    def __init__(
        self, metric_code: str, problem: str, missing: Mapping[str, Sequence[str]]
    ) -> None:
        self.metric_code = metric_code
        self.problem = problem
        self.missing = {entry: list(trusts) for entry, trusts in missing.items()}
        details = "; ".join(
            f"{entry} (needed by {', '.join(trusts)})" if trusts else entry
            for entry, trusts in self.missing.items()
        )
        super().__init__(f"{metric_code}: {problem}: {details}")


@dataclass(frozen=True)
class MetricRule:
    """How one metric of a framework is scored.

    ``params`` is JSON-shaped because regulators edit it as data:
    ranked ``{}``; banded ``{"bands": [{"min": 0, "score": 1}, ..., {"min": None, "score": 4}]}``
    (best band first, ``max`` instead of ``min`` for lower-is-better bands); lookup
    ``{"inputs": ["OF0079", "OF0081"], "table": {"1,1": 1, ...}}``; categorical
    ``{"categories": {"Outstanding": 1, ...}}``; supplied ``{}``.
    """

    code: str
    domain: str
    direction: Direction
    method: ScoringMethod
    counted: bool
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class QuarterInput:
    """One league table (one peer group) for one quarter."""

    trust_codes: list[str]
    rules: list[MetricRule]
    values: FloatArray  # N x M, NaN where the trust has no value
    supplied_scores: FloatArray  # N x M, NaN where no score was supplied
    category_values: dict[str, list[str | None]]  # categorical metric code -> N ratings
    # Ranked metric code -> the national pool's values (this peer group's included). Ranked
    # metrics not in here are ranked within the N trusts.
    pool_values: dict[str, FloatArray]
    in_deficit: BoolArray
    in_recovery_support: BoolArray
    thresholds: tuple[float, float, float] | None  # None: quartiles of quartile_pool_averages
    quartile_pool_averages: FloatArray | None = None  # None: this peer group's own averages
    # Domain -> its three thresholds (METHODOLOGY section 4.6). A domain absent or None is
    # segmented by quartiles of this peer group's 2 d.p. domain scores.
    domain_thresholds: Mapping[str, tuple[float, float, float] | None] = field(default_factory=dict)
    replicates: int = 5000
    seed: int = 1
    use_supplied_scores: bool = False
    # NHS England's Q1 and Q2 2025/26 files rank Recovery Support Programme trusts by their
    # adjusted segment (before segment 5); METHODOLOGY section 5 ranks by the final segment.
    rank_on_adjusted_segment: bool = False

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        self.supplied_scores = np.asarray(self.supplied_scores, dtype=np.float64)
        self.in_deficit = np.asarray(self.in_deficit, dtype=bool)
        self.in_recovery_support = np.asarray(self.in_recovery_support, dtype=bool)
        trusts, metrics = len(self.trust_codes), len(self.rules)
        for name in ("values", "supplied_scores"):
            if np.shape(getattr(self, name)) != (trusts, metrics):
                raise ValueError(f"{name} must be {trusts} trusts x {metrics} metrics")
        for name in ("in_deficit", "in_recovery_support"):
            if np.shape(getattr(self, name)) != (trusts,):
                raise ValueError(f"{name} must have one flag per trust ({trusts})")
        if self.replicates < 0:
            raise ValueError("replicates cannot be negative")
        codes = [rule.code for rule in self.rules]
        if len(set(codes)) != len(codes):
            raise ValueError("metric codes must be unique within a framework")


@dataclass
class QuarterResult:
    """Scores, segments, league positions and likely ranges of one league table.

    Integer arrays use 0 for "none" (a trust with no counted metric score has no average, no
    segment and no rank); float arrays use NaN.
    """

    trust_codes: list[str]
    metric_codes: list[str]
    scores: FloatArray  # N x M
    domain_scores: dict[str, FloatArray]  # domain -> N
    average: list[Decimal | None]  # 2 d.p., half up
    average_exact: FloatArray
    # How many metric scores each average is the mean of: counted metrics only, never the
    # parts of a combined score (OF0079, OF0081) that are shown but not averaged on their own.
    metrics_counted: IntArray
    unadjusted_segment: IntArray
    adjusted_segment: IntArray  # after the financial override, before segment 5
    final_segment: IntArray
    rank: IntArray
    average_range: FloatArray  # N x 2: 2.5th and 97.5th percentiles
    rank_range: IntArray  # N x 2
    thresholds: tuple[float, float, float]
    metric_median: FloatArray
    metric_lower_quartile: FloatArray
    metric_upper_quartile: FloatArray
    # Domain -> segment 1 to 4 of each trust's domain score (0: no score in that domain), and
    # the thresholds that placed them (typed in, or the quartiles taken).
    domain_segments: dict[str, IntArray] = field(default_factory=dict)
    domain_thresholds: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    @property
    def unscored_trust_codes(self) -> list[str]:
        """Trusts left out of the table because they have no counted metric score."""
        return [
            code for code, avg in zip(self.trust_codes, self.average, strict=True) if avg is None
        ]
