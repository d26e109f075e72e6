"""Numbers no column can hold, counts no trust could have, and files with no data rows: every
importer refuses them before anything is saved, naming the file, line, column, value and reason.

The cases come from a hostile tester's report: an A&E sitrep with 1e30 attendances stored as a
context measure that then answered the public trust pages with a 500; a KO41a file whose 23-digit
count failed in the database as line 1 "(file)" with no checksum; ERIC site counts of -7 and 3.5
accepted; a header-only NOF file left awaiting confirmation; and "5E+2" in a message.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leaguetable import roles
from metrics.imports.ae import AE_ATTENDANCES_KEY, import_ae
from metrics.imports.base import COUNT_MAXIMUM, FILE, ImportRejected, ImportReport, RowError
from metrics.imports.complaints import import_complaints
from metrics.imports.nof import import_nof
from metrics.imports.register import import_trusts
from metrics.imports.survey import import_patient_survey
from metrics.models import ComplaintsYear, ImportRun, Metric, Observation, SurveySectionResult
from tests.factories import user_with_role
from tests.metrics.imports.helpers import (
    AE_FILE,
    COMPLAINTS_FILE,
    ERIC_FILE,
    NOF_FILE,
    SURVEY_FILE,
    Rows,
    ods_copy,
    ods_header_only,
    snapshot,
)
from trusts.models import ContextMeasure

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TOO_LARGE = "99999999999999999999999"  # 23 digits
NO_EXPONENT_HOLDS = "1e99999999999999999999"
NOT_PLAUSIBLE = "not a plausible count: too large (a count may be at most 2,147,483,647)"
ATTENDANCES = "A&E attendances Type 1"


def table(path: Path, encoding: str = "utf-8") -> tuple[list[str], Rows]:
    rows = list(csv.reader(path.read_text(encoding=encoding).splitlines()))
    return rows[0], rows[1:]


def line_of(rows: Rows, column: int, value: str) -> int:
    """The line (header = 1) of the data row whose `column` holds `value`."""
    [index] = [i for i, row in enumerate(rows) if row[column] == value]
    return index + 2


def stored() -> dict[str, Any]:
    """Everything these files could write, to show a refused file wrote none of it."""
    return {
        **snapshot(),
        "measures": sorted(
            ContextMeasure.objects.values_list("trust_id", "year", "key", "value", "unit")
        ),
        "complaints": sorted(ComplaintsYear.objects.values_list("trust_id", "year", "new")),
        "survey": SurveySectionResult.objects.count(),
    }


def refused(importer: Callable[..., ImportReport], path: Path) -> list[RowError]:
    """The errors `importer` gives for `path`, having checked that nothing was saved."""
    before = stored()
    with pytest.raises(ImportRejected) as rejected:
        importer(path)
    assert stored() == before
    report = rejected.value.report
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors == [error.as_dict() for error in report.errors]
    return report.errors


# Through the admin, as the tester did ---------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def analyst(eric_loaded: ImportReport, media: Path) -> Client:
    client = Client()
    client.force_login(user_with_role("analyst", roles.ANALYST), backend=MODEL_BACKEND)
    return client


def upload(client: Client, path: Path, kind: str) -> ImportRun:
    file = SimpleUploadedFile(path.name, path.read_bytes())
    response = client.post(reverse("admin:metrics_importrun_upload"), {"kind": kind, "file": file})
    assert response.status_code == 302
    return ImportRun.objects.exclude(uploaded_file="").latest("pk")


def test_an_ae_upload_with_absurd_counts_is_refused_and_the_trust_pages_still_answer(
    analyst: Client, write_csv: Callable[..., Path]
) -> None:
    header, rows = table(AE_FILE)
    org, attendances = header.index("Org Code"), header.index(ATTENDANCES)
    rows[line_of(rows, org, "RBQ") - 2][attendances] = "1e30"
    rows[line_of(rows, org, "RJ8") - 2][attendances] = TOO_LARGE
    path = write_csv("ae-absurd.csv", [header, *rows], encoding="utf-8")

    run = upload(analyst, path, ImportRun.Kind.AE)

    assert run.status == ImportRun.Status.REJECTED
    assert run.errors == [
        {"line": 6, "column": ATTENDANCES, "value": "1e30", "reason": NOT_PLAUSIBLE},
        {"line": 7, "column": ATTENDANCES, "value": TOO_LARGE, "reason": NOT_PLAUSIBLE},
    ]
    assert f'ae-absurd.csv:6: column "{ATTENDANCES}" value "1e30": {NOT_PLAUSIBLE}' in run.report
    assert run.checksum and run.rows_read == 193
    assert not ContextMeasure.objects.filter(key=AE_ATTENDANCES_KEY).exists()
    assert not Observation.objects.exists()
    # Nothing to confirm: the upload cannot be queued.
    analyst.post(reverse("admin:metrics_importrun_upload_status", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REJECTED
    for code in ("RBQ", "RJ8"):
        assert Client().get(f"/trusts/{code}/").status_code == 200


def test_a_ko41a_upload_with_absurd_counts_names_each_cell(
    analyst: Client, write_csv: Callable[..., Path]
) -> None:
    header, rows = table(COMPLAINTS_FILE, encoding="utf-8-sig")
    code = header.index("Organisation_Code")
    rows[line_of(rows, code, "RJ1") - 2][header.index("Complaints_Total_New")] = TOO_LARGE
    rows[line_of(rows, code, "RTH") - 2][header.index("Subject_Area_Other")] = "1e30"
    path = write_csv("ko41a-absurd.csv", [header, *rows])

    run = upload(analyst, path, ImportRun.Kind.COMPLAINTS)

    assert run.status == ImportRun.Status.REJECTED
    assert [(e["line"], e["column"], e["value"], e["reason"]) for e in run.errors] == [
        (line_of(rows, code, "RJ1"), "Complaints_Total_New", TOO_LARGE, NOT_PLAUSIBLE),
        (line_of(rows, code, "RTH"), "Subject_Area_Other", "1e30", NOT_PLAUSIBLE),
    ]
    assert len(run.checksum) == 64 and run.rows_read == 279
    assert not ComplaintsYear.objects.exists()


def test_a_header_only_upload_is_refused_not_left_awaiting_confirmation(
    analyst: Client, nof_table: tuple[list[str], Rows], write_csv: Callable[..., Path]
) -> None:
    path = write_csv("nof-header-only.csv", [nof_table[0]])

    run = upload(analyst, path, ImportRun.Kind.NOF)

    assert run.status == ImportRun.Status.REJECTED
    assert run.errors == [
        {
            "line": 1,
            "column": FILE,
            "value": "",
            "reason": "nof-header-only.csv has no data rows: there is nothing to import",
        }
    ]


# Counts: whole, 0 or more, and no more than a column holds ------------------------------------

ABSURD_COUNTS = [
    ("1e30", NOT_PLAUSIBLE),
    (TOO_LARGE, NOT_PLAUSIBLE),
    ("2147483648", NOT_PLAUSIBLE),
    ("2,147,483,648", NOT_PLAUSIBLE),
    (NO_EXPONENT_HOLDS, "not a count: not a number that can be stored"),
    ("-20", "not a count (a whole number of 0 or more)"),
    ("12.5", "not a count (a whole number of 0 or more)"),
    ("1e-3", "not a count (a whole number of 0 or more)"),
    ("lots", "not a count: not a number"),
]


@pytest.mark.parametrize(("value", "reason"), ABSURD_COUNTS)
def test_a_sitrep_count_that_no_trust_could_have_is_refused(
    eric_loaded: ImportReport, write_csv: Callable[..., Path], value: str, reason: str
) -> None:
    header, rows = table(AE_FILE)
    line = line_of(rows, header.index("Org Code"), "RTH")
    rows[line - 2][header.index("Attendances over 4hrs Type 2")] = value

    [error] = refused(import_ae, write_csv("ae.csv", [header, *rows], encoding="utf-8"))

    assert (error.line, error.column, error.value) == (line, "Attendances over 4hrs Type 2", value)
    assert error.reason.startswith(reason)


def test_the_largest_count_a_column_holds_is_imported(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    header, rows = table(AE_FILE)
    line = line_of(rows, header.index("Org Code"), "RTH")
    rows[line - 2][header.index(ATTENDANCES)] = f"{COUNT_MAXIMUM:,}"

    import_ae(write_csv("ae.csv", [header, *rows], encoding="utf-8"))

    # Oxford University Hospitals' other attendances: 1458 + 3458 + booked 1753 + 0 + 207.
    measure = ContextMeasure.objects.get(trust__ods_code="RTH", key=AE_ATTENDANCES_KEY)
    assert measure.value == COUNT_MAXIMUM + 1458 + 3458 + 1753 + 207


@pytest.mark.parametrize(("value", "reason"), ABSURD_COUNTS)
def test_a_complaints_count_that_no_trust_could_have_is_refused(
    eric_loaded: ImportReport, write_csv: Callable[..., Path], value: str, reason: str
) -> None:
    header, rows = table(COMPLAINTS_FILE, encoding="utf-8-sig")
    line = line_of(rows, header.index("Organisation_Code"), "RJ1")
    rows[line - 2][header.index("Complaints_Number_Upheld")] = value

    [error] = refused(import_complaints, write_csv("ko41a.csv", [header, *rows]))

    assert (error.line, error.column, error.value) == (line, "Complaints_Number_Upheld", value)
    assert error.reason.startswith(reason)


@pytest.mark.parametrize(("value", "reason"), ABSURD_COUNTS)
def test_a_survey_respondent_count_that_no_trust_could_have_is_refused(
    eric_loaded: ImportReport, tmp_path: Path, value: str, reason: str
) -> None:
    broken = ods_copy(SURVEY_FILE, tmp_path / "aip.ods", "Trust_Scores", {("RJ1", "n_tpat"): value})

    [error] = refused(import_patient_survey, broken)

    # Guy's and St Thomas' is row 55 of the Trust_Scores sheet.
    assert (error.line, error.column, error.value) == (55, "n_tpat", value)
    assert error.reason.startswith(reason)


# ERIC's context measures ---------------------------------------------------------------------

GENERAL_ACUTE = "Number of sites - General acute hospital (No.)"
MENTAL_HEALTH = "Number of sites - Mental Health (including Specialist services) (No.)"
FIRES = "Fires recorded (No.)"
EQUIPMENT = "Capital investment for equipment (£)"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (GENERAL_ACUTE, "-7", "not a count (a whole number of 0 or more)"),
        (MENTAL_HEALTH, "3.5", "not a count (a whole number of 0 or more)"),
        (FIRES, "1e30", NOT_PLAUSIBLE),
        (FIRES, TOO_LARGE, NOT_PLAUSIBLE),
        (EQUIPMENT, "-5000", "an amount spent cannot be below 0"),
        (
            EQUIPMENT,
            "1e30",
            "too large to store: the database keeps at most 16 digits before the point",
        ),
        (
            EQUIPMENT,
            "£99999999999999999999",
            "too large to store: the database keeps at most 16 digits before the point",
        ),
        (EQUIPMENT, NO_EXPONENT_HOLDS, "not a number that can be stored"),
    ],
)
def test_an_estates_measure_that_cannot_be_so_is_refused(
    eric_loaded: ImportReport, tmp_path: Path, column: str, value: str, reason: str
) -> None:
    lines = ERIC_FILE.read_bytes().decode("cp1252").splitlines()
    header = next(csv.reader([lines[0]]))
    [row] = csv.reader([lines[1]])
    row[header.index(column)] = value
    path = tmp_path / "eric-2024-25-trust-data.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, row])

    [error] = refused(import_trusts, path)

    assert (error.line, error.column, error.value) == (2, column, value)
    assert error.reason.startswith(reason)


def test_both_of_the_testers_site_counts_are_refused_and_nothing_changes(
    eric_loaded: ImportReport, tmp_path: Path
) -> None:
    header, rows = table(ERIC_FILE, encoding="cp1252")
    rows[0][header.index(GENERAL_ACUTE)] = "-7"
    rows[1][header.index(MENTAL_HEALTH)] = "3.5"
    path = tmp_path / "eric-2024-25-trust-data.csv"
    with path.open("w", encoding="cp1252", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])

    errors = refused(import_trusts, path)

    assert [(e.line, e.column, e.value) for e in errors] == [
        (2, GENERAL_ACUTE, "-7"),
        (3, MENTAL_HEALTH, "3.5"),
    ]


# NOF values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e30", "too large to store: the database keeps at most 14 digits before the point"),
        (TOO_LARGE, "too large to store: the database keeps at most 14 digits before the point"),
        (NO_EXPONENT_HOLDS, "not a number that can be stored: its exponent is too large"),
    ],
)
def test_a_nof_value_too_large_to_store_is_refused_even_without_a_valid_range(
    eric_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    value: str,
    reason: str,
) -> None:
    Metric.objects.filter(code="OF0086").update(minimum=None, maximum=None)
    header, rows = nof_table
    [row] = [
        list(r)
        for r in rows
        if (r[header.index("Metric_ID")], r[header.index("Trust_code")], r[0])
        == ("OF0086", "RYY", "Q4 2025/26")
    ]
    row[header.index("Value")] = value

    [error] = refused(import_nof, write_csv("nof.csv", [header, row]))

    assert (error.line, error.column, error.value, error.reason) == (2, "Value", value, reason)


def test_a_value_out_of_range_is_shown_as_written_never_in_scientific_notation(
    nof_loaded: ImportReport,
) -> None:
    observation = Observation.objects.filter(metric__code="OF0005").first()
    observation.value = Decimal("500")

    with pytest.raises(ValidationError) as refused_edit:
        observation.clean()

    assert refused_edit.value.message_dict["value"] == [
        "500 is above OF0005's valid range 0 to 100."
    ]
    # A narrower range that a stored value would fall outside names that value plainly too.
    metric = Metric.objects.get(code="OF0005")
    Observation.objects.filter(metric=metric).update(value=Decimal("50"))
    metric.maximum = Decimal("20")
    with pytest.raises(ValidationError) as refused_range:
        metric.clean()
    assert ": 50. Correct the values first" in refused_range.value.messages[0]


# Files with no data rows ----------------------------------------------------------------------


def header_only_csv(source: Path, name: str, tmp_path: Path, encoding: str) -> Path:
    header = source.read_bytes().decode(encoding).splitlines()[0]
    path = tmp_path / name
    # Blank lines below the header are no rows either.
    path.write_text(header + "\r\n\r\n,,,\r\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("importer", "source", "name", "encoding"),
    [
        (import_nof, NOF_FILE, "nof-2025-26.csv", "utf-8-sig"),
        (import_ae, AE_FILE, "ae-2026-05.csv", "utf-8"),
        (import_complaints, COMPLAINTS_FILE, "ko41a-2024-25.csv", "utf-8-sig"),
        (import_trusts, ERIC_FILE, "eric-2024-25-trust-data.csv", "cp1252"),
    ],
)
def test_a_csv_file_with_a_header_and_no_data_rows_is_refused(
    eric_loaded: ImportReport,
    tmp_path: Path,
    importer: Callable[..., ImportReport],
    source: Path,
    name: str,
    encoding: str,
) -> None:
    path = header_only_csv(source, name, tmp_path, encoding)

    [error] = refused(importer, path)

    assert (error.line, error.column, error.value) == (1, FILE, "")
    assert error.reason == f"{name} has no data rows: there is nothing to import"
    assert error.describe(name).startswith(f'{name}:1: column "(file)"')


def test_a_workbook_whose_sheet_has_only_a_header_is_refused(
    eric_loaded: ImportReport, tmp_path: Path
) -> None:
    path = ods_header_only(SURVEY_FILE, tmp_path / "aip-2022.ods", "Trust_Scores")

    [error] = refused(import_patient_survey, path)

    assert (error.line, error.column) == (1, FILE)
    assert error.reason == (
        "aip-2022.ods, sheet Trust_Scores has no data rows: there is nothing to import"
    )
