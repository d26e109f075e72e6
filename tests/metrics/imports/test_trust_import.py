"""Importing the trust register: ERIC creates trusts, the ODS etr.csv keeps them current."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count

from metrics.imports.base import ImportRejected, ImportReport
from metrics.imports.register import ETR_WIDTH, import_trusts, official_name
from metrics.models import ImportRun
from tests.metrics.imports.helpers import AE_FILE, ERIC_FILE, Rows
from trusts.models import ContextMeasure, Trust

MEASURES_PER_TRUST = 17


def eric_table() -> tuple[list[str], Rows]:
    with ERIC_FILE.open(encoding="cp1252", newline="") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def etr_row(code: str, name: str, grouping: str = "Y63", close: str = "") -> list[str]:
    """A row in the ODS etr.csv layout: 27 columns, no header."""
    row = [""] * ETR_WIDTH
    row[0], row[1], row[2], row[3] = code, name, grouping, "QWO"
    row[4:10] = ["2150 KIRKSTALL LANE", "", "LEEDS", "WEST YORKSHIRE", "", "LS6 3DP"]
    row[10], row[11] = "20020401", close
    return row


@pytest.mark.django_db
def test_it_imports_every_trust_in_eric_into_its_league_table() -> None:
    report = import_trusts(ERIC_FILE)

    assert Trust.objects.count() == 207
    by_group = dict(
        Trust.objects.values_list("peer_group__slug").annotate(n=Count("id")).order_by()
    )
    assert by_group == {"acute": 135, "mental-health-community": 62, "ambulance": 10}
    assert report.changes["trusts"].created == 207
    assert report.kind == ImportRun.Kind.TRUSTS
    assert report.encoding == "cp1252"


@pytest.mark.django_db
def test_it_sets_name_type_subtype_region_and_peer_group(eric_loaded: ImportReport) -> None:
    trust = Trust.objects.select_related("region", "peer_group").get(ods_code="RGD")

    assert trust.name == "Leeds and York Partnership NHS Foundation Trust"
    assert trust.trust_type == "MENTAL HEALTH AND LEARNING DISABILITY"
    assert trust.subtype == "Mental Health and Learning Disability"
    assert trust.region.slug == "north-east-and-yorkshire"
    assert trust.peer_group.slug == "mental-health-community"
    assert trust.is_open is True
    acute = Trust.objects.get(ods_code="RTH")
    assert (acute.peer_group.slug, acute.subtype) == ("acute", "Teaching")


@pytest.mark.parametrize(
    ("upper", "official"),
    [
        (
            "LEEDS AND YORK PARTNERSHIP NHS FOUNDATION TRUST",
            "Leeds and York Partnership NHS Foundation Trust",
        ),
        ("GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "Guy's and St Thomas' NHS Foundation Trust"),
        (
            "THE QUEEN ELIZABETH HOSPITAL KING'S LYNN NHS FOUNDATION TRUST",
            "The Queen Elizabeth Hospital King's Lynn NHS Foundation Trust",
        ),
        (
            "GREAT ORMOND STREET HOSPITAL FOR CHILDREN NHS FOUNDATION TRUST",
            "Great Ormond Street Hospital for Children NHS Foundation Trust",
        ),
        (
            "THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST",
            "The Newcastle upon Tyne Hospitals NHS Foundation Trust",
        ),
        (
            "TEES, ESK AND WEAR VALLEYS NHS FOUNDATION TRUST",
            "Tees, Esk and Wear Valleys NHS Foundation Trust",
        ),
        (
            "LANCASHIRE & SOUTH CUMBRIA NHS FOUNDATION TRUST",
            "Lancashire & South Cumbria NHS Foundation Trust",
        ),
        (
            "KENT AND MEDWAY NHS AND SOCIAL CARE PARTNERSHIP TRUST",
            "Kent and Medway NHS and Social Care Partnership Trust",
        ),
        ("MULTI-SERVICE HEALTH-CARE TRUST", "Multi-Service Health-Care Trust"),
        (
            "UNIVERSITY HOSPITALS OF NORTH MIDLANDS NHS TRUST",
            "University Hospitals of North Midlands NHS Trust",
        ),
        ("O'NEILL  COMMUNITY NHS TRUST", "O'Neill Community NHS Trust"),
        ("Already Cased NHS Trust", "Already Cased NHS Trust"),
    ],
)
def test_it_writes_names_in_the_official_mixed_case(upper: str, official: str) -> None:
    assert official_name(upper) == official


@pytest.mark.django_db
def test_it_stores_context_measures_for_the_year_in_the_file_name(
    eric_loaded: ImportReport,
) -> None:
    assert ContextMeasure.objects.count() == 207 * MEASURES_PER_TRUST
    assert set(ContextMeasure.objects.values_list("year", "source").distinct()) == {
        ("2024/25", "ERIC 2024/25")
    }
    measures = {m.key: m for m in ContextMeasure.objects.filter(trust__ods_code="R0A")}
    # Manchester University NHS FT's row of the ERIC file.
    assert measures["sites-total"].value == Decimal("108")
    assert (measures["sites-total"].label, measures["sites-total"].unit) == (
        "Sites: total",
        "sites",
    )
    assert measures["sites-general-acute"].value == Decimal("4")
    assert measures["capital-new-build"].value == Decimal("20843927")
    assert measures["capital-new-build"].unit == "£"
    assert measures["fires-recorded"].value == Decimal("6")
    assert measures["fires-recorded"].unit == "count"


@pytest.mark.django_db
def test_it_stores_not_applicable_as_no_value(
    write_csv: Callable[..., Path],
) -> None:
    header, rows = eric_table()
    row = next(r for r in rows if r[0] == "RGD")
    row[header.index("Number of sites - General acute hospital (No.)")] = "Not Applicable"

    import_trusts(write_csv("eric-2024-25.csv", [header, row], encoding="cp1252"))

    measure = ContextMeasure.objects.get(trust__ods_code="RGD", key="sites-general-acute")
    assert measure.value is None


@pytest.mark.django_db
def test_it_takes_the_year_from_the_argument(tmp_path: Path) -> None:
    path = tmp_path / "trusts.csv"
    shutil.copy(ERIC_FILE, path)

    import_trusts(path, year="2025/26")

    assert set(ContextMeasure.objects.values_list("year", flat=True).distinct()) == {"2025/26"}


@pytest.mark.django_db
def test_it_needs_a_year_when_the_file_name_has_none(tmp_path: Path) -> None:
    path = tmp_path / "trusts.csv"
    shutil.copy(ERIC_FILE, path)

    with pytest.raises(ImportRejected) as rejected:
        import_trusts(path)

    assert "financial year unknown" in rejected.value.report.errors[0].reason
    assert not Trust.objects.exists()
    with pytest.raises(ValueError, match="not a financial year"):
        import_trusts(path, year="2024/26")


@pytest.mark.django_db
def test_it_changes_nothing_when_eric_is_imported_again(eric_loaded: ImportReport) -> None:
    trust_history = Trust.history.count()
    measures = sorted(ContextMeasure.objects.values_list("pk", "value"))

    report = import_trusts(ERIC_FILE)

    assert (report.created, report.updated) == (0, 0)
    assert report.changes["trusts"].unchanged == 207
    assert Trust.history.count() == trust_history == 207
    assert sorted(ContextMeasure.objects.values_list("pk", "value")) == measures


@pytest.mark.django_db
def test_it_rejects_an_unknown_trust_type_or_region_and_saves_nothing(
    write_csv: Callable[..., Path],
) -> None:
    header, rows = eric_table()
    rows[0][header.index("Trust Type")] = "ACUTE - ENORMOUS"
    rows[1][header.index("Commissioning Region")] = "WALES COMMISSIONING REGION"

    with pytest.raises(ImportRejected) as rejected:
        import_trusts(write_csv("eric-2024-25.csv", [header, *rows], encoding="cp1252"))

    errors = [(e.line, e.column, e.value) for e in rejected.value.report.errors]
    assert errors == [
        (2, "Trust Type", "ACUTE - ENORMOUS"),
        (3, "Commissioning Region", "WALES COMMISSIONING REGION"),
    ]
    assert "unknown trust type" in rejected.value.report.errors[0].reason
    assert not Trust.objects.exists()
    assert not ContextMeasure.objects.exists()


@pytest.mark.django_db
def test_it_updates_names_regions_and_closures_from_an_ods_extract(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "etr.csv",
        [
            etr_row("RGD", "LEEDS AND YORK PARTNERSHIP NHS FOUNDATION TRUST"),
            etr_row("TAH", "SHEFFIELD HEALTH PARTNERSHIP UNIVERSITY NHS FOUNDATION TRUST"),
            etr_row("RJN", "EAST CHESHIRE NHS TRUST", grouping="Y62", close="20240930"),
        ],
        encoding="utf-8",
    )

    report = import_trusts(path)

    renamed = Trust.objects.get(ods_code="TAH")
    assert renamed.name == "Sheffield Health Partnership University NHS Foundation Trust"
    closed = Trust.objects.get(ods_code="RJN")
    assert (closed.is_open, closed.closed_on) == (False, date(2024, 9, 30))
    assert closed.region.slug == "north-west"
    assert report.changes["trusts"].updated == 2
    assert report.changes["trusts"].unchanged == 1
    assert closed.history.latest("history_date").history_change_reason == "Imported from etr.csv"
    assert closed.history.count() == 2


@pytest.mark.django_db
def test_it_rejects_an_open_trust_the_register_does_not_know_from_an_ods_extract(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "etr.csv",
        [
            etr_row("TAH", "SHEFFIELD HEALTH PARTNERSHIP UNIVERSITY NHS FOUNDATION TRUST"),
            etr_row("RZZ", "NEW NORTHERN NHS TRUST"),
        ],
        encoding="utf-8",
    )

    with pytest.raises(ImportRejected) as rejected:
        import_trusts(path)

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.value) == (2, "Organisation code", "RZZ")
    assert error.reason == "trust type unknown: load the ERIC file first"
    assert Trust.objects.get(ods_code="TAH").name == (
        "Sheffield Health and Social Care NHS Foundation Trust"
    )
    assert not Trust.objects.filter(ods_code="RZZ").exists()


@pytest.mark.django_db
def test_it_skips_closed_and_welsh_organisations_the_register_does_not_know(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "etr.csv",
        [
            etr_row("RM9", "ALEXANDRA HEALTH CARE NHS TRUST", grouping="Y60", close="19990331"),
            etr_row("RQF", "VELINDRE UNIVERSITY NHS TRUST", grouping="W00"),
        ],
        encoding="utf-8",
    )

    report = import_trusts(path)

    assert report.skipped_count == 2
    assert Trust.objects.count() == 207


@pytest.mark.django_db
def test_it_rejects_a_file_it_does_not_recognise() -> None:
    with pytest.raises(ImportRejected) as rejected:
        import_trusts(AE_FILE)

    [error] = rejected.value.report.errors
    assert error.line == 1
    assert f"{AE_FILE.name} is not a recognised trust file" in error.reason
    assert "ERIC" in error.reason and "etr.csv" in error.reason
    assert ImportRun.objects.get().status == ImportRun.Status.REJECTED


@pytest.mark.django_db
def test_it_rejects_an_open_trust_in_a_national_grouping_it_cannot_place(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "etr.csv", [etr_row("RGD", "LEEDS AND YORK PARTNERSHIP", grouping="Q72")], encoding="utf-8"
    )

    with pytest.raises(ImportRejected) as rejected:
        import_trusts(path)

    [error] = rejected.value.report.errors
    assert (error.column, error.value) == ("National grouping", "Q72")
