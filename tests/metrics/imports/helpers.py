"""Paths to the real NHS files and plain helpers shared by the importer tests."""

from __future__ import annotations

from typing import Any

from metrics.imports.nof import NOF_DERIVED, NOF_FLAGS
from metrics.models import Metric, Observation, TrustQuarterStatus
from tests.conftest import NHS_DATA

ERIC_FILE = NHS_DATA / "eric-2024-25-trust-data.csv"
NOF_FILE = NHS_DATA / "nof-2025-26-mental-health-community-trust-data.csv"
AE_FILE = NHS_DATA / "ae-monthly-sitrep-2026-05.csv"

Rows = list[list[str]]


def nof_expected_observations(header: list[str], rows: Rows) -> set[tuple[str, str, str]]:
    """The distinct (trust, metric code, quarter) a NOF file implies, worked out without the
    importer: a score row (OF1084) belongs to the metric whose score_code it is."""
    metric_of: dict[str, str] = {}
    for code, score_code in Metric.objects.values_list("code", "score_code"):
        metric_of[code] = code
        if score_code:
            metric_of[score_code] = code
    index = {name: i for i, name in enumerate(header)}
    expected = set()
    for row in rows:
        metric_id = row[index["Metric_ID"]]
        if metric_id in NOF_DERIVED or metric_id in NOF_FLAGS:
            continue
        expected.add((row[index["Trust_code"]], metric_of[metric_id], row[index["Quarter"]]))
    return expected


def stored_observations() -> set[tuple[str, str, str]]:
    return {
        (trust, metric, f"Q{number} {year}/{(year + 1) % 100:02d}")
        for trust, metric, number, year in Observation.objects.values_list(
            "trust__ods_code", "metric__code", "quarter__number", "quarter__year_start"
        )
    }


def snapshot() -> dict[str, Any]:
    """Everything a performance import can change, to compare before and after."""
    return {
        "observations": sorted(
            Observation.objects.values_list(
                "trust_id",
                "metric_id",
                "quarter_id",
                "value",
                "supplied_score",
                "reporting_period",
                "import_run_id",
                "source_line",
            )
        ),
        "statuses": sorted(
            TrustQuarterStatus.objects.values_list(
                "trust_id", "quarter_id", "in_financial_deficit", "in_recovery_support"
            )
        ),
        "observation_history": Observation.history.count(),
        "status_history": TrustQuarterStatus.history.count(),
    }
