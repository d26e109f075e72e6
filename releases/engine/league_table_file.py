"""NHS England's league table CSV, byte for byte: METHODOLOGY section 7.

Analysts already load NHS England's file, so the portal writes exactly what it writes: UTF-8
with a byte order mark, CRLF line endings, quotes only where a field needs them, numbers as
pandas writes floats (``1.53``, ``1.9``, ``2.0``; segment and rank too: ``1.0``) and likely
ranges as ``"1.2 to 1.89"`` for averages and ``"1 to 11"`` for ranks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Real

from releases.engine.segments import round_half_up

LEAGUE_TABLE_COLUMNS = (
    "Quarter",
    "Region",
    "Trust_type",
    "Trust_subtype",
    "Trust_code",
    "Trust_name",
    "Average_score",
    "Likely_range_of_average_score",
    "Segment",
    "Trust_in_financial_deficit",
    "Rank",
    "Likely_range_of_rank",
)
BYTE_ORDER_MARK = "\ufeff"
# A text cell starting with one of these is read by a spreadsheet as a formula (or, for tab and
# carriage return, shifts it into the next cell); "=HYPERLINK(...)" in a trust name would run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Number = Real | Decimal


@dataclass(frozen=True)
class LeagueTableRow:
    """One trust's line of the published league table, as plain values (None: left empty)."""

    quarter: str
    region: str
    trust_type: str
    trust_subtype: str
    trust_code: str
    trust_name: str
    average_score: Number | None
    average_score_range: tuple[Number, Number] | None
    segment: int | None
    in_financial_deficit: bool
    rank: int | None
    rank_range: tuple[int, int] | None


def format_number(value: Number | None) -> str:
    """A score, segment or rank as NHS England writes it: 2 d.p. at most, ``.0`` if whole."""
    if value is None:
        return ""
    # repr of the rounded float drops trailing zeros but keeps one decimal, like pandas.
    return repr(float(round_half_up(value, 2)))


def format_range(low: Number, high: Number) -> str:
    """A likely range: ``"1.2 to 1.89"`` for averages, ``"1 to 11"`` for ranks (integers)."""
    return f"{_range_end(low)} to {_range_end(high)}"


def spreadsheet_text(text: str) -> str:
    """`text` as a spreadsheet must show it: a leading ' stops one starting like a formula from
    being run (OWASP's advice for CSV injection). Numbers are never passed here, so "-0.5" stays
    a number; real NHS England names and labels start with none of these, so they are unchanged.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def league_table_csv(rows: Iterable[LeagueTableRow]) -> str:
    """The league table as NHS England publishes it; ``.encode("utf-8")`` gives its bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LEAGUE_TABLE_COLUMNS)
    writer.writerows(_published_fields(row) for row in rows)
    return BYTE_ORDER_MARK + buffer.getvalue()


def _published_fields(row: LeagueTableRow) -> list[str]:
    return [
        spreadsheet_text(row.quarter),
        spreadsheet_text(row.region),
        spreadsheet_text(row.trust_type),
        spreadsheet_text(row.trust_subtype),
        spreadsheet_text(row.trust_code),
        spreadsheet_text(row.trust_name),
        format_number(row.average_score),
        format_range(*row.average_score_range) if row.average_score_range else "",
        format_number(row.segment),
        "Yes" if row.in_financial_deficit else "No",
        format_number(row.rank),
        format_range(*row.rank_range) if row.rank_range else "",
    ]


def _range_end(value: Number) -> str:
    if isinstance(value, Integral):
        return str(int(value))
    return format_number(value)
