"""How long the scoring engine takes, and how much memory it needs, on two league tables.

(a) the real Q4 2025/26 mental health and community table (61 trusts), 5,000 replicates;
(b) a synthetic table of 10,000 providers x 40 ranked and banded metrics, 1,000 replicates.

Run from the repository root: ``python bench/engine_bench.py``. Seconds are wall-clock for one
computation; peak memory is what NumPy and Python allocated during a second run under
tracemalloc, on top of the inputs.
"""

from __future__ import annotations

import csv
import resource
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np

from releases.engine import (
    Direction,
    MetricRule,
    QuarterInput,
    ScoringMethod,
    compute_quarter,
)

NOF_FILE = (
    Path(__file__).resolve().parent.parent
    / "data"
    / "nhs"
    / "nof-2025-26-mental-health-community-trust-data.csv"
)
Q4 = "Q4 2025/26"
Q4_THRESHOLDS = (2.065, 2.30, 2.585)
# Components of the combined finance score (OF1080) do not count towards the average.
UNCOUNTED_SCORES = {"OF1079", "OF1081"}


def q4_replay() -> QuarterInput:
    """The published Q4 2025/26 scores replayed as supplied scores."""
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    flags: dict[str, dict[str, float]] = defaultdict(dict)
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as data:
        for row in csv.DictReader(data):
            if row["Quarter"] != Q4 or not row["Value"]:
                continue
            metric, trust = row["Metric_ID"], row["Trust_code"]
            if metric.startswith("OF1") and metric not in UNCOUNTED_SCORES:
                scores[metric][trust] = float(row["Value"])
            elif metric in ("OF5004", "OF5007"):
                flags[metric][trust] = float(row["Value"])
    trusts = sorted({trust for by_trust in scores.values() for trust in by_trust})
    metrics = sorted(scores)
    supplied = np.array(
        [[scores[metric].get(trust, np.nan) for metric in metrics] for trust in trusts]
    )
    return QuarterInput(
        trust_codes=trusts,
        rules=[
            MetricRule(metric, "all", Direction.LOWER_IS_BETTER, ScoringMethod.SUPPLIED, True, {})
            for metric in metrics
        ],
        values=np.full(supplied.shape, np.nan),
        supplied_scores=supplied,
        category_values={},
        pool_values={},
        in_deficit=np.array([flags["OF5004"].get(trust) == 1.0 for trust in trusts]),
        in_recovery_support=np.array([flags["OF5007"].get(trust) == 1.0 for trust in trusts]),
        thresholds=Q4_THRESHOLDS,
        replicates=5000,
        seed=1,
    )


def synthetic(trusts: int = 10_000, metrics: int = 40, replicates: int = 1000) -> QuarterInput:
    """Providers with 30 ranked and 10 banded metrics, about 10% of values missing."""
    generator = np.random.default_rng(2026)
    values = generator.normal(50.0, 15.0, size=(trusts, metrics))
    values[generator.random((trusts, metrics)) < 0.1] = np.nan
    bands = [{"min": 60, "score": 1}, {"min": 50, "score": 2}, {"min": 40, "score": 3}]
    bands.append({"min": None, "score": 4})
    rules = [
        MetricRule(
            f"SY{index:04d}",
            f"Domain {index % 5}",
            Direction.HIGHER_IS_BETTER if index % 2 else Direction.LOWER_IS_BETTER,
            ScoringMethod.RANKED if index < 30 else ScoringMethod.BANDED,
            True,
            {} if index < 30 else {"bands": bands},
        )
        for index in range(metrics)
    ]
    return QuarterInput(
        trust_codes=[f"P{index:05d}" for index in range(trusts)],
        rules=rules,
        values=values,
        supplied_scores=np.full((trusts, metrics), np.nan),
        category_values={},
        pool_values={},
        in_deficit=generator.random(trusts) < 0.3,
        in_recovery_support=generator.random(trusts) < 0.01,
        thresholds=None,
        replicates=replicates,
        seed=1,
    )


def measure(name: str, quarter: QuarterInput) -> None:
    """Time one computation, then repeat it under tracemalloc (which slows it) for memory."""
    started = time.perf_counter()
    result = compute_quarter(quarter)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    compute_quarter(quarter)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ranked = int((result.rank > 0).sum())
    print(
        f"{name}: {len(quarter.trust_codes):,} trusts x {len(quarter.rules)} metrics, "
        f"{quarter.replicates:,} replicates: {seconds:.2f} s, peak {peak / 2**20:.0f} MiB "
        f"allocated ({ranked:,} ranked)"
    )


def main() -> None:
    measure("Q4 2025/26 mental health and community (real)", q4_replay())
    measure("Synthetic national table", synthetic())
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Process peak resident memory: {max_rss:.0f} MiB")


if __name__ == "__main__":
    main()
