"""Importing NHS England's A&E monthly sitrep."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from metrics.imports.ae import import_ae
from metrics.imports.base import ImportRejected, ImportReport
from metrics.models import ImportRun, Observation, Quarter
from tests.metrics.imports.helpers import AE_FILE, snapshot

pytestmark = pytest.mark.django_db

NOT_A_TRUST = "not an NHS trust in the register (independent provider, UTC, ...)"


def ae_rows() -> list[list[str]]:
    with AE_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def observation(trust: str, metric: str) -> Observation:
    return Observation.objects.get(trust__ods_code=trust, metric__code=metric)


def test_it_computes_four_hour_performance_over_all_types_as_published(
    eric_loaded: ImportReport,
) -> None:
    import_ae(AE_FILE)

    # Oxford University Hospitals' row: attendances 13048 + 1458 + 3458 + booked 1753 + 0 + 207
    # = 19924; over 4 hours 3808 + 0 + 53 + booked 335 + 0 + 15 = 4211.
    # 100 x (1 - 4211 / 19924) = 78.864686...
    assert observation("RTH", "AE4H").value == Decimal("78.864686")


def test_it_computes_twelve_hour_waits_as_a_share_of_admissions_via_ae(
    eric_loaded: ImportReport,
) -> None:
    import_ae(AE_FILE)

    # 10 waits of 12+ hours from decision to admit / (5371 + 96 + 13) admissions via A&E.
    assert observation("RTH", "AE12H").value == Decimal("0.182482")


def test_it_files_may_2026_under_q1_2026_27_as_real_data(eric_loaded: ImportReport) -> None:
    report = import_ae(AE_FILE)

    quarter = Quarter.objects.get(year_start=2026, number=1)
    assert (quarter.start_date, quarter.end_date) == (date(2026, 4, 1), date(2026, 6, 30))
    assert report.changes["quarters"].created == 1
    stored = Observation.objects.filter(metric__code__in=["AE4H", "AE12H"])
    assert {o.quarter_id for o in stored} == {quarter.pk}
    assert {o.reporting_period for o in stored} == {"May 2026"}
    assert {o.is_synthetic for o in stored} == {False}


def test_it_skips_and_counts_organisations_that_are_not_nhs_trusts(
    eric_loaded: ImportReport,
) -> None:
    report = import_ae(AE_FILE)

    assert report.skipped[NOT_A_TRUST] == 43
    assert report.skipped["England total row"] == 1
    assert not Observation.objects.filter(trust__ods_code__in=["AJN", "AQN04", "NTV0B"]).exists()
    assert report.rows_read == 193
    assert not report.rejected


def test_it_gives_no_value_where_there_is_nothing_to_divide_by(
    eric_loaded: ImportReport,
) -> None:
    report = import_ae(AE_FILE)

    # Liverpool Heart and Chest: no A&E attendances and no admissions via A&E.
    assert not Observation.objects.filter(trust__ods_code="RBQ").exists()
    # Hampshire and Isle of Wight Healthcare: a minor injuries unit, no admissions via A&E.
    assert observation("RW1", "AE4H").value == Decimal("97.695553")
    assert not Observation.objects.filter(trust__ods_code="RW1", metric__code="AE12H").exists()
    assert report.skipped["AE4H not computed: no A&E attendances"] == 9
    assert report.skipped["AE12H not computed: no emergency admissions via A&E"] == 20
    trusts_in_file = 149
    assert Observation.objects.count() == 2 * trusts_in_file - 9 - 20


def test_it_changes_nothing_when_the_same_file_is_imported_again(
    eric_loaded: ImportReport,
) -> None:
    import_ae(AE_FILE)
    before = snapshot()

    report = import_ae(AE_FILE)

    assert (report.created, report.updated) == (0, 0)
    assert snapshot() == before


def test_it_saves_nothing_when_a_count_is_not_a_number(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    rows = ae_rows()
    header = rows[0]
    [index] = [i for i, row in enumerate(rows) if row[1] == "RTH"]
    rows[index][header.index("Attendances over 4hrs Type 1")] = "38O8"

    with pytest.raises(ImportRejected) as rejected:
        import_ae(write_csv("ae-broken.csv", rows, encoding="utf-8"))

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.value) == (
        index + 1,
        "Attendances over 4hrs Type 1",
        "38O8",
    )
    assert not Observation.objects.exists()
    assert not Quarter.objects.filter(year_start=2026).exists()
    run = ImportRun.objects.get(pk=rejected.value.report.import_run_id)
    assert run.status == ImportRun.Status.REJECTED


def test_it_rejects_a_period_it_cannot_read(
    eric_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    rows = ae_rows()
    [index] = [i for i, row in enumerate(rows) if row[1] == "RTH"]
    rows[index][0] = "MSitAE-MAI-2026"

    with pytest.raises(ImportRejected) as rejected:
        import_ae(write_csv("ae-bad-period.csv", rows, encoding="utf-8"))

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.value) == (index + 1, "Period", "MSitAE-MAI-2026")


def test_it_keeps_each_trusts_attendances_as_context_for_its_page(
    eric_loaded: ImportReport,
) -> None:
    from trusts.models import ContextMeasure

    import_ae(AE_FILE)

    measure = ContextMeasure.objects.get(trust__ods_code="RTH", key="ae-attendances-month")
    # Oxford University Hospitals: 13048 + 1458 + 3458 + booked 1753 + 0 + 207.
    assert (measure.year, measure.value, measure.label) == (
        "2026/27",
        Decimal("19924"),
        "A&E attendances in May 2026",
    )
    assert measure.source == "NHS England, A&E attendances and emergency admissions, May 2026"
    # A trust with no attendances has no A&E to speak of: nothing is stored for it.
    assert not ContextMeasure.objects.filter(key="ae-attendances-month", value=0).exists()
