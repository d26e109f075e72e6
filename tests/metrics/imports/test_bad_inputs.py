"""Every kind of bad file and bad cell the importers must refuse, each named with its file,
line, column, value and reason, and nothing of the file saved.

The cases come from issue 11: numbers misread without a word ("1,5" stored as 15,
Arabic-Indic digits read as 12, percentages of 250 and -40, supplied scores out of 1 to 4),
files that are not CSV (UTF-16, an Excel workbook, OpenDocument, a ZIP, binary) answered with
five "column missing" errors, and a NUL byte that crashed PostgreSQL or was stored in a name.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from metrics.imports.ae import import_ae
from metrics.imports.base import FILE, ImportRejected
from metrics.imports.nof import import_nof
from metrics.imports.register import import_trusts
from metrics.models import ImportRun, Metric, Observation
from tests.metrics.imports.helpers import AE_FILE, ERIC_FILE, NOF_FILE, Rows, snapshot
from trusts.models import Trust

pytestmark = pytest.mark.django_db

NofTable = tuple[list[str], Rows]


def rejected_by(importer: Callable[..., object], path: Path) -> list:
    """The errors `importer` gives for `path`, having checked that nothing was saved."""
    before = snapshot()
    trusts_before = sorted(Trust.objects.values_list("ods_code", "name"))
    runs_before = ImportRun.objects.count()
    with pytest.raises(ImportRejected) as rejected:
        importer(path)
    assert snapshot() == before
    assert sorted(Trust.objects.values_list("ods_code", "name")) == trusts_before
    run = ImportRun.objects.order_by("-pk").first()
    assert ImportRun.objects.count() == runs_before + 1
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors  # the run keeps every reason for the person who reads it later
    return rejected.value.report.errors


def one_row(nof_table: NofTable, metric: str, trust: str = "RYY", quarter: str = "Q4 2025/26"):
    header, rows = nof_table
    m, t, q = header.index("Metric_ID"), header.index("Trust_code"), header.index("Quarter")
    [row] = [r for r in rows if (r[m], r[t], r[q]) == (metric, trust, quarter)]
    return header, list(row)


# Numbers --------------------------------------------------------------------------------------

BAD_NUMBERS = [
    # (Metric_ID, Value, what the reason must say)
    ("OF1084", "1,5", "thousands in groups of three"),
    ("OF0057", "1,5", "thousands in groups of three"),
    ("OF0057", "12,34", "thousands in groups of three"),
    ("OF0057", "١٢", "digits 0 to 9"),
    ("OF0057", "۱۲", "digits 0 to 9"),
    ("OF0057", "１２", "digits 0 to 9"),
    ("OF0057", "NaN", "finite"),
    ("OF0057", "inf", "finite"),
    ("OF0057", "-Infinity", "finite"),
    ("OF0057", "250", "above OF0057's valid range 0 to 100"),
    ("OF0057", "-40", "below OF0057's valid range 0 to 100"),
    ("OF0057", "100.01", "above OF0057's valid range 0 to 100"),
    ("OF0061", "11", "above OF0061's valid range 0 to 10"),
    ("OF0082", "-0.5", "below OF0082's valid range 0 to 100"),
    ("OF1084", "5", "a metric score runs from 1 to 4"),
    ("OF1084", "0.99", "a metric score runs from 1 to 4"),
    ("OF1084", "-2", "a metric score runs from 1 to 4"),
    ("OF1080", "4.5", "a metric score runs from 1 to 4"),
    ("OF1035", "0", "a metric score runs from 1 to 4"),
    ("OF0057", "", "empty"),
    ("OF0057", "12.5%", "not a number"),
    ("OF0057", "1.2.3", "not a number"),
    ("OF0057", "0x1A", "not a number"),
    ("OF0057", "1_000", "not a number"),
    ("OF0057", "–40", "not a number"),
]


@pytest.mark.parametrize(("metric", "value", "reason"), BAD_NUMBERS)
def test_it_refuses_a_number_it_would_misread(
    eric_loaded, nof_table, write_csv, metric, value, reason
) -> None:
    header, row = one_row(nof_table, metric, trust="R1A")
    row[header.index("Value")] = value
    path = write_csv("nof-bad-number.csv", [header, row])

    [error] = rejected_by(import_nof, path)

    assert (error.line, error.column, error.value) == (2, "Value", value.strip())
    assert reason in error.reason
    assert f'nof-bad-number.csv:2: column "Value" value "{value.strip()}"' in error.describe(
        path.name
    )


@pytest.mark.parametrize("value", ["1,234", "1234", "12.5", "0", "100", "1E+1"])
def test_it_reads_numbers_written_as_nhs_files_write_them(
    eric_loaded, nof_table, write_csv, value
) -> None:
    header, row = one_row(nof_table, "OF0086")
    row[header.index("Value")] = value
    import_nof(write_csv("nof.csv", [header, row]))

    stored = Observation.objects.get(metric__code="OF0086", trust__ods_code="RYY")
    assert stored.value == {"1,234": 1234, "1234": 1234, "1E+1": 10}.get(value, stored.value)
    assert str(stored.value.normalize()) in {"1234", "12.5", "0", "1E+2", "1E+1"}


def test_every_default_metric_has_a_valid_range_the_real_data_keeps_to(nof_loaded) -> None:
    for metric in Metric.objects.exclude(unit="rating"):
        assert metric.minimum is not None or metric.maximum is not None, metric.code
    for observation in Observation.objects.select_related("metric").filter(value__isnull=False):
        assert observation.metric.range_problem(observation.value) is None, observation


def test_a_sitrep_count_with_a_decimal_comma_is_refused(eric_loaded, tmp_path: Path) -> None:
    lines = AE_FILE.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0]
    row = next(line for line in lines if line.startswith("MSitAE-MAY-2026,RJ8,")).split(",")
    row[4] = '"1,5"'
    path = tmp_path / "ae.csv"
    path.write_text(header + "\n" + ",".join(row) + "\n", encoding="utf-8")

    [error] = rejected_by(import_ae, path)

    assert (error.line, error.column, error.value) == (2, "A&E attendances Type 1", "1,5")
    assert "groups of three" in error.reason


def test_an_estates_measure_with_foreign_digits_is_refused(tmp_path: Path) -> None:
    lines = ERIC_FILE.read_bytes().decode("cp1252").splitlines()
    path = tmp_path / "eric-2024-25-trust-data.csv"
    header = lines[0]
    # The first trust's number of general acute sites, in Arabic-Indic digits.
    cells = lines[1].split(",")
    cells[header.split(",").index("Number of sites - General acute hospital (No.)")] = "٣٤"
    path.write_text(header + "\n" + ",".join(cells) + "\n", encoding="utf-8")

    errors = rejected_by(import_trusts, path)

    assert [(e.line, e.value) for e in errors] == [(2, "٣٤")]
    assert "digits 0 to 9" in errors[0].reason


# Files that are not CSV -----------------------------------------------------------------------


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Quarter", "Trust_code", "Metric_ID", "Reporting_date", "Value"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ods_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("nof.csv", NOF_FILE.read_bytes()[:2000])
    return buffer.getvalue()


NOF_TEXT = NOF_FILE.read_text(encoding="utf-8-sig")[:4000]
NOT_CSV = {
    "utf-16 with a byte order mark": (NOF_TEXT.encode("utf-16"), "UTF-16"),
    "utf-16 big-endian without a mark": (NOF_TEXT.encode("utf-16-be"), "UTF-16"),
    "utf-16 little-endian without a mark": (NOF_TEXT.encode("utf-16-le"), "UTF-16"),
    "utf-32": (NOF_TEXT.encode("utf-32"), "UTF-32"),
    "an Excel workbook": (xlsx_bytes(), "Excel workbook (.xlsx)"),
    "an OpenDocument spreadsheet": (ods_bytes(), "OpenDocument spreadsheet"),
    "a zip of a CSV": (zip_bytes(), "ZIP archive"),
    "an Excel 97 workbook": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls"),
    "a PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
    "a gzip": (b"\x1f\x8b\x08\x00" + bytes(100), "gzip"),
    "binary": (bytes(range(256)) * 8, "binary"),
    "an image": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "image"),
    "zeros": (bytes(5000), "binary"),
}


@pytest.mark.parametrize("importer", [import_nof, import_ae, import_trusts])
@pytest.mark.parametrize("kind", list(NOT_CSV))
def test_a_file_that_is_not_csv_gets_one_error_saying_what_it_is(
    eric_loaded, tmp_path: Path, importer, kind: str
) -> None:
    content, looks_like = NOT_CSV[kind]
    path = tmp_path / "eric-2024-25-upload.csv"
    path.write_bytes(content)

    [error] = rejected_by(importer, path)

    assert (error.line, error.column) == (1, FILE)
    assert looks_like in error.value
    assert "not a CSV file" in error.reason
    assert "Save As" in error.reason  # and how to make one


# NUL bytes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["Trust_name", "Value", "Trust_code", "Metric_description"])
def test_a_nul_byte_in_any_field_is_a_row_error(eric_loaded, nof_table, write_csv, column):
    header, row = one_row(nof_table, "OF0057")
    row[header.index(column)] = row[header.index(column)][:3] + "\x00" + "evil"
    name_before = Trust.objects.get(ods_code="RYY").name
    path = write_csv("nof-nul.csv", [header, one_row(nof_table, "OF0082")[1], row])

    [error] = rejected_by(import_nof, path)

    assert (error.line, error.column) == (3, column)
    assert "NUL byte" in error.reason
    assert "\x00" not in error.value
    assert Trust.objects.get(ods_code="RYY").name == name_before


def test_a_nul_byte_in_the_trust_register_is_a_row_error(tmp_path: Path) -> None:
    lines = ERIC_FILE.read_bytes().decode("cp1252").splitlines()
    path = tmp_path / "eric-2024-25-trust-data.csv"
    cells = lines[1].split(",")
    cells[1] = cells[1] + "\x00"
    path.write_text(lines[0] + "\n" + ",".join(cells) + "\n", encoding="utf-8")

    errors = rejected_by(import_trusts, path)

    assert [(e.line, "NUL byte" in e.reason) for e in errors] == [(2, True)]
    assert not Trust.objects.exists()
