"""The real NHS England files, turned into engine inputs.

The loader here is for tests only (the Django layer builds QuarterInput from the ORM). It reads
the long NOF data file: OF0xxx rows are raw values, OF1xxx rows the published scores, OF5xxx
rows the published summary (average, segments, flags).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from metrics import default_frameworks
from releases.engine import Direction, MetricRule, QuarterInput, ScoringMethod
from tests.conftest import NHS_DATA

NOF_FILE = NHS_DATA / "nof-2025-26-mental-health-community-trust-data.csv"
LEAGUE_TABLE_FILE = NHS_DATA / "nof-2025-26-q4-mental-health-community-league-table.csv"

QUARTERS = ("Q1 2025/26", "Q2 2025/26", "Q3 2025/26", "Q4 2025/26")
# The default framework's own data (a plain-data module, no Django): the replay checks the
# configuration the portal installs, not a copy of it.
_NOF = next(
    f for f in default_frameworks.FRAMEWORKS if f["peer_group"] == "mental-health-community"
)
# METHODOLOGY section 4: thresholds that reproduce the published segments.
THRESHOLDS = {
    f"Q{number} 2025/26": tuple(float(t) for t in values)
    for number, values in _NOF["thresholds"].items()
}
# METHODOLOGY section 3: (planned OF1079, variance OF1081) -> combined finance OF1080.
COMBINED_FINANCE = default_frameworks.COMBINED_FINANCE_PUBLISHED
PLANNED_SURPLUS_BANDS = default_frameworks.FINANCE_BANDS_PLANNED["bands"]
VARIANCE_TO_PLAN_BANDS = default_frameworks.FINANCE_BANDS_VARIANCE["bands"]
ACCESS = "Access to services"
EFFECTIVENESS = "Effectiveness and experience"
SAFETY = "Patient safety"
WORKFORCE = "People and workforce"
FINANCE = "Finance and productivity"
# NHS England's domain score IDs (OF4000 ...) by the domain names the rules below use.
DOMAIN_SCORE_IDS = {
    name: default_frameworks.DOMAIN_IDS[slug][0] for slug, name in default_frameworks.DOMAINS
}
DOMAIN_SEGMENT_IDS = {
    name: default_frameworks.DOMAIN_IDS[slug][1] for slug, name in default_frameworks.DOMAINS
}
# METHODOLOGY section 4.6: the domain thresholds chosen inside the published intervals, as the
# portal installs them.
DOMAIN_THRESHOLDS = {
    f"Q{number} 2025/26": {
        name: tuple(float(t) for t in by_id[DOMAIN_SCORE_IDS[name]]) for name in DOMAIN_SCORE_IDS
    }
    for number, by_id in default_frameworks.MH_COMMUNITY_DOMAIN_THRESHOLDS.items()
}
HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER


def _rule(
    code: str,
    domain: str,
    direction: Direction,
    method: ScoringMethod = ScoringMethod.RANKED,
    counted: bool = True,
    **params: object,
) -> MetricRule:
    return MetricRule(code, domain, direction, method, counted, params)


# The 2025/26 mental health and community framework in the data file's metric order. The
# sickness, crisis, community wait, CYP access, UCR, length of stay and cost metrics are ranked
# over national pools that the file does not contain, so only a replay reproduces their scores.
MH_COMMUNITY_2025_26 = [
    _rule("OF0005", ACCESS, LOWER),
    _rule("OF0016", SAFETY, HIGHER),
    _rule("OF1035", EFFECTIVENESS, LOWER, ScoringMethod.SUPPLIED),
    _rule("OF0041", ACCESS, HIGHER),
    _rule("OF0057", EFFECTIVENESS, HIGHER),
    _rule("OF0061", SAFETY, HIGHER),
    _rule("OF0063", EFFECTIVENESS, LOWER),
    _rule("OF1067", SAFETY, LOWER, ScoringMethod.SUPPLIED),
    _rule("OF0079", FINANCE, HIGHER, ScoringMethod.BANDED, False, bands=PLANNED_SURPLUS_BANDS),
    _rule(
        "OF1080",
        FINANCE,
        LOWER,
        ScoringMethod.LOOKUP,
        inputs=["OF0079", "OF0081"],
        table=COMBINED_FINANCE,
    ),
    _rule("OF0081", FINANCE, HIGHER, ScoringMethod.BANDED, False, bands=VARIANCE_TO_PLAN_BANDS),
    _rule("OF0082", WORKFORCE, LOWER),
    _rule("OF0084", WORKFORCE, HIGHER),
    _rule("OF0086", FINANCE, LOWER),
]


@dataclass(frozen=True)
class NofCell:
    """One trust's row for one metric: its value and the peer statistics published with it."""

    value: float | None
    rank: float | None
    median: float | None
    lower_quartile: float | None
    upper_quartile: float | None


_EMPTY = NofCell(None, None, None, None, None)


@dataclass(frozen=True)
class NofQuarter:
    """One quarter of the NOF file: metric ID -> trust code -> cell."""

    trust_codes: list[str]
    rows: dict[str, dict[str, NofCell]]

    def cell(self, metric_id: str, trust_code: str) -> NofCell:
        return self.rows.get(metric_id, {}).get(trust_code, _EMPTY)

    def value(self, metric_id: str, trust_code: str) -> float | None:
        return self.cell(metric_id, trust_code).value

    def published_rank(self, metric_id: str, trust_code: str) -> float | None:
        return self.cell(metric_id, trust_code).rank

    def column(self, metric_id: str) -> np.ndarray:
        values = [self.value(metric_id, code) for code in self.trust_codes]
        return np.array([np.nan if value is None else value for value in values])

    def flag(self, metric_id: str) -> np.ndarray:
        return self.column(metric_id) == 1.0


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


@pytest.fixture(scope="session")
def nof() -> dict[str, NofQuarter]:
    rows: dict[str, dict[str, dict[str, NofCell]]] = defaultdict(lambda: defaultdict(dict))
    trusts: dict[str, list[str]] = defaultdict(list)
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as data:
        for row in csv.DictReader(data):
            quarter, code = row["Quarter"], row["Trust_code"]
            if code not in trusts[quarter]:
                trusts[quarter].append(code)
            rows[quarter][row["Metric_ID"]][code] = NofCell(
                *(
                    _number(row[column])
                    for column in (
                        "Value",
                        "Rank",
                        "Median_value",
                        "Lower_quartile",
                        "Upper_quartile",
                    )
                )
            )
    return {
        quarter: NofQuarter(
            trusts[quarter], {metric: dict(by) for metric, by in rows[quarter].items()}
        )
        for quarter in QUARTERS
    }


@pytest.fixture(scope="session")
def published_league_table() -> list[dict[str, str]]:
    with LEAGUE_TABLE_FILE.open(encoding="utf-8-sig", newline="") as table:
        return list(csv.DictReader(table))


def value_id(rule: MetricRule) -> str:
    """The NOF ID of a metric's raw value; score-only metrics (OF1035, OF1080) have none."""
    return rule.code if rule.code.startswith("OF0") else "none"


def score_id(rule: MetricRule) -> str:
    """The NOF ID of a metric's published score: OF0084 -> OF1084 (score-only IDs unchanged)."""
    return "OF1" + rule.code[3:]


QuarterInputBuilder = Callable[..., QuarterInput]


@pytest.fixture(scope="session")
def quarter_input(nof: dict[str, NofQuarter]) -> QuarterInputBuilder:
    """Build a QuarterInput for a quarter of the NOF file (a replay by default)."""

    def build(
        quarter: str,
        *,
        use_supplied_scores: bool = True,
        rules: list[MetricRule] | None = None,
        replicates: int = 0,
        seed: int = 1,
        rank_on_adjusted_segment: bool = False,
        trust_codes: list[str] | None = None,
        domain_thresholds: dict[str, tuple[float, float, float] | None] | None = None,
    ) -> QuarterInput:
        data = nof[quarter]
        framework = rules or MH_COMMUNITY_2025_26
        codes = trust_codes or data.trust_codes
        selected = NofQuarter(codes, data.rows)
        return QuarterInput(
            trust_codes=list(codes),
            rules=framework,
            values=np.column_stack([selected.column(value_id(rule)) for rule in framework]),
            supplied_scores=np.column_stack(
                [selected.column(score_id(rule)) for rule in framework]
            ),
            category_values={},
            pool_values={},
            in_deficit=selected.flag("OF5004"),
            in_recovery_support=selected.flag("OF5007"),
            thresholds=THRESHOLDS[quarter],
            domain_thresholds=DOMAIN_THRESHOLDS[quarter]
            if domain_thresholds is None
            else domain_thresholds,
            replicates=replicates,
            seed=seed,
            use_supplied_scores=use_supplied_scores,
            rank_on_adjusted_segment=rank_on_adjusted_segment,
        )

    return build
