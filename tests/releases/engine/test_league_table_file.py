"""NHS England's league table CSV format (METHODOLOGY section 7)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from releases.engine import LeagueTableRow, compute_quarter, format_number, format_range
from releases.engine.league_table_file import league_table_csv
from tests.releases.engine.conftest import LEAGUE_TABLE_FILE, QuarterInputBuilder


def test_it_writes_ranges_as_nhs_england_does() -> None:
    assert format_range(1.2, 1.89) == "1.2 to 1.89"
    assert format_range(np.float64(1.995), np.float64(2.744)) == "2.0 to 2.74"
    assert format_range(1, 11) == "1 to 11"
    assert format_range(np.int64(40), np.int64(61)) == "40 to 61"


def test_it_writes_numbers_as_nhs_england_does() -> None:
    assert format_number(Decimal("1.90")) == "1.9"
    assert format_number(Decimal("1.53")) == "1.53"
    assert format_number(3.085) == "3.09"
    assert format_number(1) == "1.0"
    assert format_number(None) == ""


def _published_rows(published: list[dict[str, str]]) -> list[LeagueTableRow]:
    rows = []
    for row in published:
        average_low, average_high = row["Likely_range_of_average_score"].split(" to ")
        rank_low, rank_high = row["Likely_range_of_rank"].split(" to ")
        rows.append(
            LeagueTableRow(
                quarter=row["Quarter"],
                region=row["Region"],
                trust_type=row["Trust_type"],
                trust_subtype=row["Trust_subtype"],
                trust_code=row["Trust_code"],
                trust_name=row["Trust_name"],
                average_score=Decimal(row["Average_score"]),
                average_score_range=(Decimal(average_low), Decimal(average_high)),
                segment=int(float(row["Segment"])),
                in_financial_deficit=row["Trust_in_financial_deficit"] == "Yes",
                rank=int(float(row["Rank"])),
                rank_range=(int(rank_low), int(rank_high)),
            )
        )
    return rows


def test_it_writes_the_published_league_table_byte_for_byte(
    published_league_table: list[dict[str, str]],
) -> None:
    written = league_table_csv(_published_rows(published_league_table)).encode("utf-8")

    assert written == LEAGUE_TABLE_FILE.read_bytes()


def test_it_writes_the_computed_q4_table_as_published(
    quarter_input: QuarterInputBuilder, published_league_table: list[dict[str, str]]
) -> None:
    codes = [row["Trust_code"] for row in published_league_table]
    result = compute_quarter(quarter_input("Q4 2025/26", trust_codes=codes, replicates=0))
    rows = [
        LeagueTableRow(
            quarter=row.quarter,
            region=row.region,
            trust_type=row.trust_type,
            trust_subtype=row.trust_subtype,
            trust_code=row.trust_code,
            trust_name=row.trust_name,
            average_score=average,
            average_score_range=row.average_score_range,
            segment=int(segment),
            in_financial_deficit=row.in_financial_deficit,
            rank=int(rank),
            rank_range=row.rank_range,
        )
        for row, average, segment, rank in zip(
            _published_rows(published_league_table),
            result.average,
            result.final_segment,
            result.rank,
            strict=True,
        )
    ]

    written = league_table_csv(rows).encode("utf-8").split(b"\r\n")
    published = LEAGUE_TABLE_FILE.read_bytes().split(b"\r\n")
    differing = [
        (ours.split(b",")[4], ours.split(b",")[6], theirs.split(b",")[6])
        for ours, theirs in zip(written, published, strict=True)
        if ours != theirs
    ]

    # Only the 4 Q4 averages that a replay of 2 d.p. scores puts 0.01 off NHS England's.
    assert differing == [
        (b"RXE", b"2.22", b"2.23"),
        (b"RNK", b"2.63", b"2.62"),
        (b"RWV", b"2.79", b"2.78"),
        (b"RX2", b"3.23", b"3.22"),
    ]
