"""Importing the CQC's trust benchmark workbook (OpenDocument spreadsheet)."""

from __future__ import annotations

import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from metrics.imports import ods
from metrics.imports.base import ImportRejected, ImportReport
from metrics.imports.survey import import_patient_survey
from metrics.models import ImportRun, SurveySectionResult
from tests.metrics.imports.helpers import SURVEY_FILE, ods_copy

pytestmark = pytest.mark.django_db

SHEET = "Trust_Scores"
R0D_UL95_S05 = "8.5999617370948549"  # University Hospitals Dorset's upper limit, section 5


def section(trust: str, code: str) -> SurveySectionResult:
    return SurveySectionResult.objects.get(trust__ods_code=trust, section=code)


def stored() -> list[tuple]:
    return sorted(
        SurveySectionResult.objects.values_list(
            "trust_id", "section", "mean", "expected_low", "expected_high", "band"
        )
    )


def test_it_imports_every_section_of_every_trust_in_the_register(
    eric_loaded: ImportReport,
) -> None:
    report = import_patient_survey(SURVEY_FILE)

    # 133 trusts in the workbook, 131 in the register (RA4 and RVY have since merged); 11
    # sections each, less the 7 trusts for which CQC marks section 2 not applicable.
    assert report.rows_read == 133
    assert SurveySectionResult.objects.values("trust").distinct().count() == 131
    assert SurveySectionResult.objects.count() == 131 * 11 - 7
    assert report.skipped["trust not in the register (since merged, or not an NHS trust)"] == 2
    assert report.skipped["section S02 not applicable to the trust (band 0)"] == 7
    assert not SurveySectionResult.objects.filter(trust__ods_code__in=["RA4", "RVY"]).exists()


def test_it_keeps_cqcs_score_expected_range_and_band_as_published(
    eric_loaded: ImportReport,
) -> None:
    import_patient_survey(SURVEY_FILE)

    # Guy's and St Thomas' (RJ1), row 55 of Trust_Scores: meanS01 7.5754575889121547,
    # ll95S01 6.0883946423820454, ul95S01 7.6887948438338629, bandS01 5.
    first = section("RJ1", "S01")
    assert (first.mean, first.expected_low, first.expected_high) == (
        Decimal("7.575"),
        Decimal("6.088"),
        Decimal("7.689"),
    )
    assert first.get_band_display() == "Somewhat better than expected"
    assert section("RJ1", "S11").get_band_display() == "Better than expected"
    assert (first.survey, first.year, first.respondents, first.source_line) == (
        "Adult Inpatient Survey",
        "2022",
        480,
        55,
    )
    run = ImportRun.objects.get(kind=ImportRun.Kind.SURVEY)
    assert (run.kind, run.status, first.import_run_id) == ("survey", "imported", run.pk)


def test_it_changes_nothing_when_the_same_workbook_is_imported_again(
    eric_loaded: ImportReport,
) -> None:
    import_patient_survey(SURVEY_FILE)
    before, history = stored(), SurveySectionResult.history.count()

    again = import_patient_survey(SURVEY_FILE)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 131 * 11 - 7)
    assert (stored(), SurveySectionResult.history.count()) == (before, history)


def test_a_corrected_workbook_changes_only_what_changed_and_keeps_the_old_value(
    eric_loaded: ImportReport, tmp_path: Path
) -> None:
    import_patient_survey(SURVEY_FILE)
    corrected = ods_copy(
        SURVEY_FILE, tmp_path / "corrected.ods", SHEET, {("RJ1", "meanS03"): "8.5"}
    )

    report = import_patient_survey(corrected)

    assert (report.created, report.updated) == (0, 1)
    changed = section("RJ1", "S03")
    assert changed.mean == Decimal("8.500")
    old = changed.history.order_by("history_date")[0]
    assert old.mean != Decimal("8.500")
    assert changed.history.first().history_change_reason == "Imported from corrected.ods"


def test_a_broken_copy_is_rejected_whole_with_every_bad_cell_named(
    eric_loaded: ImportReport, tmp_path: Path
) -> None:
    broken = ods_copy(
        SURVEY_FILE,
        tmp_path / "broken.ods",
        SHEET,
        {
            ("R0A", "meanS01"): "n/a",  # row 2
            ("R0B", "bandS04"): "9",  # row 3
            ("R0D", "ll95S05"): "9.9",  # row 4: above its upper limit
            ("R1F", "meanS06"): "",  # row 5: a band without a score
            ("R1H", "TrustCode"): "R0A",  # row 6: the same trust twice
            ("RJ1", "meanS07"): "11",  # row 55: outside 0 to 10
        },
    )

    with pytest.raises(ImportRejected) as rejected:
        import_patient_survey(broken)

    report = rejected.value.report
    found = {(e.line, e.column, e.value, e.reason) for e in report.errors}
    assert found == {
        (2, "meanS01", "n/a", "not a score from 0 to 10"),
        (3, "bandS04", "9", "not a CQC band (0 not applicable, 1 much worse ... 7 much better)"),
        (
            4,
            "ll95S05",
            "9.9",
            f"the expected range's lower limit is above its upper limit ({R0D_UL95_S05})",
        ),
        (5, "meanS06", "", "no score beside a band"),
        (6, "TrustCode", "R0A", "duplicate: this trust is already on line 2"),
        (55, "meanS07", "11", "not a score from 0 to 10"),
    }
    assert not SurveySectionResult.objects.exists()
    run = ImportRun.objects.get(kind=ImportRun.Kind.SURVEY)
    assert run.status == ImportRun.Status.REJECTED
    assert len(run.errors) == 6
    assert 'broken.ods, sheet Trust_Scores:55: column "meanS07" value "11"' in str(report)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda path: path.write_text("TrustCode,meanS01\nRJ1,7.5\n"), "not a zip archive"),
        (
            lambda path: zipfile.ZipFile(path, "w").writestr("mimetype", "application/zip"),
            'its type is "application/zip"',
        ),
    ],
)
def test_it_rejects_a_file_that_is_not_an_ods_workbook(
    eric_loaded: ImportReport, tmp_path: Path, make, reason: str
) -> None:
    path = tmp_path / "survey.ods"
    make(path)

    with pytest.raises(ImportRejected) as rejected:
        import_patient_survey(path)

    [error] = rejected.value.report.errors
    assert error.line == 1
    assert reason in error.reason


def test_it_names_a_missing_column(eric_loaded: ImportReport, tmp_path: Path) -> None:
    # The header's band column for section 3 renamed: that section cannot be read.
    broken = ods_copy(SURVEY_FILE, tmp_path / "renamed.ods", SHEET, {})
    with zipfile.ZipFile(broken) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["content.xml"] = members["content.xml"].replace(
        b"<text:p>bandS03</text:p>", b"<text:p>band S3</text:p>"
    )
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("mimetype", members.pop("mimetype"), zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED)

    with pytest.raises(ImportRejected) as rejected:
        import_patient_survey(broken)

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.reason) == (
        1,
        "bandS03",
        "column missing from the header",
    )


def test_the_reader_streams_the_workbook_in_little_memory() -> None:
    # content.xml is 16 MB and claims a million rows a sheet; a DOM would hold all of it.
    tracemalloc.start()
    try:
        rows = sum(1 for _ in ods.sheet_rows(SURVEY_FILE, SHEET))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 134
    assert peak < 20 * 1024 * 1024


def test_the_reader_refuses_entity_declarations(tmp_path: Path) -> None:
    path = tmp_path / "bomb.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", ods.ODS_MIMETYPE, zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
        )

    with pytest.raises(ods.SpreadsheetError):
        list(ods.sheet_rows(path, SHEET))


def test_the_reader_names_the_sheets_a_workbook_has(tmp_path: Path) -> None:
    with pytest.raises(ods.SpreadsheetError) as error:
        list(ods.sheet_rows(SURVEY_FILE, "Scores"))
    assert 'no sheet named "Scores" (its sheets: Guidance, Key, Trust_Respondents' in str(
        error.value
    )
