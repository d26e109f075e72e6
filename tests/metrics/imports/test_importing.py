"""The shared import machinery: encodings, line numbers, reports, chunked writing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from metrics.imports import base as importing
from metrics.imports.base import (
    ImportRejected,
    ImportReport,
    KeyRegister,
    RowError,
    file_checksum,
    inspect_file,
)
from metrics.imports.nof import import_nof
from metrics.models import ImportRun, Observation, Quarter
from tests.metrics.imports.helpers import NOF_FILE, Rows, snapshot


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("cp1252", "cp1252")],
)
def test_it_detects_the_encoding(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "file.csv"
    path.write_text("Trust,Cost (£)\nKing’s,1\n", encoding=encoding)

    checksum, detected, problem = inspect_file(path)

    assert detected == expected
    assert problem == ""
    assert len(checksum) == 64


def test_it_reads_plain_ascii_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(b"a,b\n1,2\n")

    assert inspect_file(path)[1] == "utf-8"


@pytest.mark.django_db
def test_it_rejects_a_file_that_is_neither_utf8_nor_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    # 0x81 and 0x8D are invalid UTF-8 and undefined in cp1252.
    path.write_bytes(b"Quarter,Value\n\x81\x8d\x00\n")

    with pytest.raises(ImportRejected) as rejected:
        import_nof(path)

    [error] = rejected.value.report.errors
    assert error.line == 1
    assert error.column == "(file)"
    assert "not UTF-8 or Windows-1252" in error.reason
    run = ImportRun.objects.get(pk=rejected.value.report.import_run_id)
    assert run.status == ImportRun.Status.REJECTED


@pytest.mark.django_db
def test_it_numbers_lines_as_a_spreadsheet_user_counts_them(
    eric_loaded: object,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
) -> None:
    header, rows = nof_table
    description = header.index("Metric_description")
    first, second = list(rows[0]), list(rows[1])
    # A quoted cell spanning three physical lines (lines 2 to 4), then a bad value on line 5.
    first[description] = "Percentage of patients\nwaiting over 52 weeks\nfor community services"
    second[header.index("Value")] = "n/a"
    path = write_csv("nof.csv", [header, first, second])

    with pytest.raises(ImportRejected) as rejected:
        import_nof(path)

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.value) == (5, "Value", "n/a")


def test_it_describes_an_error_as_file_line_column_value_reason() -> None:
    error = RowError(12, "Value", "1.2x", "not a number")

    assert error.describe("nof.csv") == 'nof.csv:12: column "Value" value "1.2x": not a number'


def test_it_counts_every_error_but_stores_at_most_a_thousand() -> None:
    report = ImportReport(kind=ImportRun.Kind.NOF, file_name="big.csv")

    for line in range(2, 1502):
        report.add_error(line, "Value", "x", "not a number")

    assert report.error_count == 1500
    assert len(report.errors) == importing.MAX_STORED_ERRORS == 1000
    text = str(report)
    assert 'big.csv:2: column "Value" value "x": not a number' in text
    assert 'big.csv:1001: column "Value"' in text
    assert "and 500 more invalid rows" in text


def test_it_remembers_the_first_line_of_each_key() -> None:
    register = KeyRegister()

    assert register.first_line((1, "OF0084", 7), 2) is None
    assert register.first_line((1, "OF1084", 7), 3) is None
    assert register.first_line((2, "OF0084", 7), 4) is None
    assert register.first_line((1, "OF0084", 8), 5) is None
    assert register.first_line((1, "OF0084", 7), 6) == 2
    assert register.first_line((1, "OF0084", 8), 9) == 5


@pytest.mark.parametrize(
    ("number", "start", "end"),
    [
        (1, date(2025, 4, 1), date(2025, 6, 30)),
        (2, date(2025, 7, 1), date(2025, 9, 30)),
        (3, date(2025, 10, 1), date(2025, 12, 31)),
        (4, date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_it_dates_financial_quarters(number: int, start: date, end: date) -> None:
    assert Quarter.dates(2025, number) == (start, end)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 5, (2026, 1)),
        (2026, 4, (2026, 1)),
        (2026, 12, (2026, 3)),
        (2026, 1, (2025, 4)),
        (2026, 3, (2025, 4)),
        (2025, 9, (2025, 2)),
    ],
)
def test_it_finds_the_financial_quarter_of_a_month(
    year: int, month: int, expected: tuple[int, int]
) -> None:
    assert Quarter.of_month(year, month) == expected


@pytest.mark.django_db
def test_it_gives_the_same_result_whatever_the_chunk_size(
    eric_loaded: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_nof(NOF_FILE)
    with_large_chunks = snapshot()["observations"]
    Observation.objects.all().delete()

    # Tiny chunks: a value and its score land in different chunks, and a chunk's lookup is
    # split over several queries.
    monkeypatch.setattr(importing, "CHUNK_SIZE", 37)
    monkeypatch.setattr(importing, "MAX_KEY_GROUPS_PER_QUERY", 2)
    report = import_nof(NOF_FILE)

    with_small_chunks = snapshot()["observations"]

    def without_provenance(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return [row[:6] for row in rows]

    assert without_provenance(with_small_chunks) == without_provenance(with_large_chunks)
    assert report.changes["observations"].created == len(with_large_chunks)
    assert report.changes["observations"].merged > 0


def test_it_checksums_the_bytes_as_the_import_run_records_them() -> None:
    assert file_checksum(NOF_FILE) == hashlib.sha256(NOF_FILE.read_bytes()).hexdigest()
    assert inspect_file(NOF_FILE)[0] == file_checksum(NOF_FILE)
