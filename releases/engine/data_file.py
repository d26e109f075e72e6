"""NHS England's trust data file (long CSV): every metric's value and score with the peer
median, quartiles and rank, and the derived rows (domain scores and segments, the summary).

Written as NHS England writes it: UTF-8 with a byte order mark, CRLF line endings, quotes only
where a field needs them, numbers as pandas writes floats (``9.03``, ``0.0``, ranks ``32.0``),
rows in order of Metric_ID and then Trust_code. Derived rows carry no peer statistics; ranks
are competition ranks (ties share the best place), as NHS England's are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from releases.engine.league_table_file import BYTE_ORDER_MARK, Number, format_number
from releases.engine.types import FloatArray, IntArray

DATA_FILE_COLUMNS = (
    "Quarter",
    "Region",
    "Trust_type",
    "Trust_subtype",
    "Trust_code",
    "Trust_name",
    "Domain",
    "Sub-domain",
    "Metric_ID",
    "Metric_description",
    "Reporting_date",
    "Units",
    "Value",
    "Median_value",
    "Lower_quartile",
    "Upper_quartile",
    "Rank",
)
SUMMARY = "Summary"
# The summary rows NHS England derives for every scored trust: ID -> (description, units).
ADJUSTED_SEGMENT = ("OF5000", "Adjusted segment", "segment")
AVERAGE_SCORE = ("OF5002", "Average metric score", "score")
UNADJUSTED_SEGMENT = ("OF5003", "Unadjusted segment", "segment")
FINANCIAL_OVERRIDE = ("OF5004", "Financial override", "flag")
FINAL_SEGMENT = ("OF5005", "Final segment score override", "segment")
RECOVERY_SUPPORT = ("OF5007", "Is the organisation in the Recovery Support Programme?", "flag")


@dataclass(frozen=True)
class TrustColumns:
    """The columns that say which trust a row is about."""

    quarter: str
    region: str
    trust_type: str
    trust_subtype: str
    trust_code: str
    trust_name: str


@dataclass(frozen=True)
class DataFileRow:
    """One line of the data file, as plain values (None: left empty)."""

    trust: TrustColumns
    domain: str
    sub_domain: str
    metric_id: str
    description: str
    reporting_date: str
    units: str
    value: Number | None
    median: Number | None = None
    lower_quartile: Number | None = None
    upper_quartile: Number | None = None
    rank: int | None = None

    @property
    def order(self) -> tuple[str, str]:
        return (self.metric_id, self.trust.trust_code)


def ranks_of(
    values: FloatArray, lower_is_better: bool, tie_breaker: FloatArray | None = None
) -> IntArray:
    """Competition rank of each value among those reported (1 = best; 0 where NaN).

    With `tie_breaker`, equal values are ordered by it, lower first (a missing one last), and
    share a rank only when it is equal too: NHS England ranked unrounded values, which its
    file's 2 d.p. values can tie but the metric scores, computed from the unrounded values,
    still tell apart. Ranking on the value, then the score, reproduces every one of the 2,348
    metric ranks in its 2025/26 mental health and community file; the value alone missed 134.
    """
    values = np.asarray(values, dtype=np.float64)
    reported = ~np.isnan(values)
    ranks = np.zeros(values.shape, dtype=np.int64)
    if not reported.any():
        return ranks
    keys = values[reported] if lower_is_better else -values[reported]
    if tie_breaker is None:
        ranks[reported] = np.searchsorted(np.sort(keys), keys, side="left") + 1
        return ranks
    second = np.asarray(tie_breaker, dtype=np.float64)[reported]
    second = np.where(np.isnan(second), np.inf, second)
    order = np.lexsort((second, keys))
    sorted_keys, sorted_second = keys[order], second[order]
    starts = np.ones(order.size, dtype=bool)
    starts[1:] = (sorted_keys[1:] != sorted_keys[:-1]) | (sorted_second[1:] != sorted_second[:-1])
    # Each position's rank is where its run of equal (value, tie breaker) pairs starts.
    first = np.maximum.accumulate(np.where(starts, np.arange(order.size), 0)) + 1
    within = np.empty(order.size, dtype=np.int64)
    within[order] = first
    ranks[reported] = within
    return ranks


def data_file_csv(rows: Iterable[DataFileRow]) -> str:
    """The data file; ``.encode("utf-8")`` gives its bytes. Rows are sorted as NHS England's."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(DATA_FILE_COLUMNS)
    writer.writerows(_fields(row) for row in sorted(rows, key=lambda row: row.order))
    return BYTE_ORDER_MARK + buffer.getvalue()


def _fields(row: DataFileRow) -> list[str]:
    trust = row.trust
    return [
        trust.quarter,
        trust.region,
        trust.trust_type,
        trust.trust_subtype,
        trust.trust_code,
        trust.trust_name,
        row.domain,
        row.sub_domain,
        row.metric_id,
        row.description,
        row.reporting_date,
        row.units,
        format_number(row.value),
        format_number(row.median),
        format_number(row.lower_quartile),
        format_number(row.upper_quartile),
        format_number(row.rank) if row.rank else "",
    ]
