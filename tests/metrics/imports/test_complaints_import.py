"""Importing NHS England's KO41a written complaints (organisation level)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from metrics.imports.base import ImportRejected, ImportReport
from metrics.imports.complaints import import_complaints
from metrics.models import ComplaintsYear, ImportRun
from tests.metrics.imports.helpers import COMPLAINTS_FILE

pytestmark = pytest.mark.django_db


def complaints_table() -> tuple[list[str], list[list[str]]]:
    with COMPLAINTS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def stored() -> list[tuple]:
    return sorted(
        ComplaintsYear.objects.values_list(
            "trust_id", "year", "new", "resolved", "upheld", "partly_upheld", "not_upheld"
        )
    )


def test_it_imports_the_2024_25_complaints_of_every_trust_in_the_register(
    eric_loaded: ImportReport,
) -> None:
    report = import_complaints(COMPLAINTS_FILE)

    # 279 organisations; 206 of the register's 207 trusts. ICBs, the "Others" and community
    # providers that are not NHS trusts (social enterprises) are skipped and counted by type.
    assert report.rows_read == 279
    assert ComplaintsYear.objects.count() == 206
    assert report.skipped == {
        "Integrated Care Board: not a trust in the register": 41,
        "Community Provider Trust: not a trust in the register": 28,
        "Others: not a trust in the register": 4,
    }
    assert set(ComplaintsYear.objects.values_list("year", flat=True)) == {"2024/25"}


def test_it_keeps_guys_and_st_thomas_figures_as_published(eric_loaded: ImportReport) -> None:
    import_complaints(COMPLAINTS_FILE)

    # Line 3: RJ1, 1556 new, 1677 resolved of which 292 upheld, 879 partly, 506 not upheld.
    rj1 = ComplaintsYear.objects.get(trust__ods_code="RJ1")
    assert (rj1.new, rj1.resolved, rj1.upheld, rj1.partly_upheld, rj1.not_upheld) == (
        1556,
        1677,
        292,
        879,
        506,
    )
    assert rj1.main_subjects() == [
        ("Patient care, including nutrition and hydration", 802),
        ("Communications", 193),
        ("Appointments", 137),
    ]
    assert round(rj1.upheld_share, 3) == round((292 + 879) / 1677, 3)
    assert rj1.source_line == 3
    run = ImportRun.objects.get(kind=ImportRun.Kind.COMPLAINTS)
    assert (run.status, rj1.import_run_id) == (ImportRun.Status.IMPORTED, run.pk)


def test_it_changes_nothing_when_the_same_file_is_imported_again(
    eric_loaded: ImportReport,
) -> None:
    import_complaints(COMPLAINTS_FILE)
    before, history = stored(), ComplaintsYear.history.count()

    again = import_complaints(COMPLAINTS_FILE)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 206)
    assert (stored(), ComplaintsYear.history.count()) == (before, history)


def test_a_corrected_file_changes_only_what_changed_and_keeps_the_old_figures(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    import_complaints(COMPLAINTS_FILE)
    header, rows = complaints_table()
    new = header.index("Complaints_Total_New")
    rows[1][new] = "1600"  # RJ1
    corrected = write_csv("ko41a-corrected.csv", [header, *rows], encoding="utf-8")

    report = import_complaints(corrected)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 205)
    rj1 = ComplaintsYear.objects.get(trust__ods_code="RJ1")
    assert rj1.new == 1600
    assert [h.new for h in rj1.history.order_by("history_date")] == [1556, 1600]


def test_a_broken_copy_is_rejected_whole_with_every_bad_row_named(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    header, rows = complaints_table()
    column = {name: i for i, name in enumerate(header)}
    rows[0][column["Complaints_Total_New"]] = "55.5"  # line 2, Bromley Healthcare (skipped)
    rows[1][column["Complaints_Total_New"]] = "-3"  # line 3, RJ1
    rows[2][column["Complaints_Number_Upheld"]] = "945"  # line 4, RJZ: outcomes add to 1202
    rows[3][column["Year"]] = "2024"  # line 5
    rows[4][column["Subject_Area_Sub_Total"]] = "1"  # line 6
    rows[5][column["Organisation_Code"]] = rows[1][column["Organisation_Code"]]  # line 7: RJ1
    broken = write_csv("ko41a-broken.csv", [header, *rows], encoding="utf-8")

    with pytest.raises(ImportRejected) as rejected:
        import_complaints(broken)

    report = rejected.value.report
    found = [(e.line, e.column, e.value) for e in report.errors]
    assert found == [
        (3, "Complaints_Total_New", "-3"),
        (4, "Complaints_Total_Resolved", "1201"),
        (5, "Year", "2024"),
        (6, "Subject_Area_Sub_Total", "1"),
        (7, "Organisation_Code", "RJ1"),
    ]
    reasons = [e.reason for e in report.errors]
    assert reasons[0] == "not a count (a whole number of 0 or more)"
    assert reasons[1] == "resolved complaints must be upheld + partly upheld + not upheld (1202)"
    assert reasons[2] == 'not a financial year like "2024-25"'
    assert reasons[3].startswith("the subject columns add up to ")
    assert reasons[4] == "duplicate: this organisation and year are on line 3"
    assert not ComplaintsYear.objects.exists()
    assert ImportRun.objects.get(kind=ImportRun.Kind.COMPLAINTS).status == "rejected"
    assert 'ko41a-broken.csv:3: column "Complaints_Total_New" value "-3"' in str(report)


def test_it_names_missing_columns(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    header, rows = complaints_table()
    gone = header.index("Complaints_Number_Upheld")
    trimmed = [[cell for i, cell in enumerate(row) if i != gone] for row in [header, *rows]]

    with pytest.raises(ImportRejected) as rejected:
        import_complaints(write_csv("ko41a-trimmed.csv", trimmed, encoding="utf-8"))

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.reason) == (
        1,
        "Complaints_Number_Upheld",
        "column missing from the header",
    )
