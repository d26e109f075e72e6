"""Importing NHS England's NOF data file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from metrics.imports.base import ImportRejected, ImportReport
from metrics.imports.nof import NOF_DERIVED, NOF_DERIVED_REASON, import_nof
from metrics.models import ImportRun, Metric, Observation, Quarter, TrustQuarterStatus
from tests.metrics.imports.helpers import (
    NOF_FILE,
    Rows,
    nof_expected_observations,
    snapshot,
    stored_observations,
)
from trusts.models import Trust

pytestmark = pytest.mark.django_db

NofTable = tuple[list[str], Rows]


def column(header: list[str], name: str) -> int:
    return header.index(name)


def find_row(header: list[str], rows: Rows, trust: str, metric: str, quarter: str) -> int:
    """Index in `rows` of one trust's Metric_ID in one quarter (file line = index + 2)."""
    t, m, q = column(header, "Trust_code"), column(header, "Metric_ID"), column(header, "Quarter")
    [index] = [i for i, r in enumerate(rows) if (r[t], r[m], r[q]) == (trust, metric, quarter)]
    return index


def test_it_imports_every_observation_in_the_real_file(
    eric_loaded: ImportReport, nof_table: NofTable
) -> None:
    header, rows = nof_table
    expected = nof_expected_observations(header, rows)

    report = import_nof(NOF_FILE)

    assert stored_observations() == expected
    assert Observation.objects.count() == len(expected)
    assert report.changes["observations"].created == len(expected)
    assert report.rows_read == len(rows) == 8771
    assert not report.rejected


def test_it_skips_and_counts_the_outputs_the_portal_derives(
    eric_loaded: ImportReport, nof_table: NofTable
) -> None:
    header, rows = nof_table
    derived = sum(1 for row in rows if row[column(header, "Metric_ID")] in NOF_DERIVED)

    report = import_nof(NOF_FILE)

    assert report.skipped == Counter({NOF_DERIVED_REASON: derived})
    assert derived == 3264
    assert f"{derived} {NOF_DERIVED_REASON}" in str(report)


def test_it_sets_the_deficit_and_recovery_support_flags(
    eric_loaded: ImportReport, nof_table: NofTable
) -> None:
    header, rows = nof_table
    expected: dict[tuple[str, str], dict[str, bool]] = {}
    for row in rows:
        flag = {"OF5004": "in_financial_deficit", "OF5007": "in_recovery_support"}.get(
            row[column(header, "Metric_ID")]
        )
        if flag:
            key = (row[column(header, "Trust_code")], row[column(header, "Quarter")])
            expected.setdefault(key, {})[flag] = row[column(header, "Value")] == "1.0"

    import_nof(NOF_FILE)

    statuses = {
        (s.trust.ods_code, s.quarter.label): s
        for s in TrustQuarterStatus.objects.select_related("trust", "quarter")
    }
    assert set(statuses) == set(expected)
    for key, flags in expected.items():
        for name, value in flags.items():
            assert getattr(statuses[key], name) is value, (key, name)
    assert statuses[("RW1", "Q1 2025/26")].in_recovery_support is True
    assert sum(s.in_financial_deficit for s in statuses.values()) == 65


def test_it_puts_all_observations_in_the_four_quarters_of_2025_26(
    eric_loaded: ImportReport,
) -> None:
    import_nof(NOF_FILE)

    quarters = Quarter.objects.filter(observations__isnull=False).distinct().order_by("number")
    assert [q.label for q in quarters] == ["Q1 2025/26", "Q2 2025/26", "Q3 2025/26", "Q4 2025/26"]
    assert [(q.start_date, q.end_date) for q in quarters] == [
        (date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
    ]


def test_it_creates_the_quarters_a_file_names(
    eric_loaded: ImportReport, nof_table: NofTable, write_csv: Callable[..., Path]
) -> None:
    header, rows = nof_table
    new_rows = []
    for number in range(1, 5):
        row = list(rows[0])
        row[column(header, "Quarter")] = f"Q{number} 2031/32"
        new_rows.append(row)

    report = import_nof(write_csv("nof-2031-32.csv", [header, *new_rows]))

    assert report.changes["quarters"].created == 4
    created = Quarter.objects.filter(year_start=2031).order_by("number")
    assert [(q.number, q.start_date, q.end_date) for q in created] == [
        (1, date(2031, 4, 1), date(2031, 6, 30)),
        (2, date(2031, 7, 1), date(2031, 9, 30)),
        (3, date(2031, 10, 1), date(2031, 12, 31)),
        (4, date(2032, 1, 1), date(2032, 3, 31)),
    ]


def test_it_merges_a_value_and_its_score_into_one_observation(
    eric_loaded: ImportReport,
) -> None:
    import_nof(NOF_FILE)

    observation = Observation.objects.get(
        trust__ods_code="RGD", metric__code="OF0084", quarter__year_start=2025, quarter__number=1
    )
    # Lines 469 (OF0084, value 7.01) and 1164 (OF1084, score 2.85) of the real file.
    assert observation.value == Decimal("7.01")
    assert observation.supplied_score == Decimal("2.85")
    assert observation.reporting_period == "2024"
    assert observation.is_synthetic is False
    assert not Metric.objects.filter(code="OF1084").exists()


def test_it_puts_a_score_only_metric_in_the_supplied_score(eric_loaded: ImportReport) -> None:
    import_nof(NOF_FILE)

    observation = Observation.objects.get(
        trust__ods_code="RGD", metric__code="OF1080", quarter__year_start=2025, quarter__number=1
    )
    assert observation.value is None
    assert observation.supplied_score == Decimal("1")
    assert observation.reporting_period == "Q1 2025/26"


def test_it_records_the_import_run_and_the_audit_trail(eric_loaded: ImportReport) -> None:
    user = get_user_model().objects.create_user("analyst")

    report = import_nof(NOF_FILE, user=user)

    run = ImportRun.objects.get(pk=report.import_run_id)
    assert run.status == ImportRun.Status.IMPORTED
    assert run.kind == ImportRun.Kind.NOF
    assert run.imported_by == user
    assert run.file_name == NOF_FILE.name
    assert run.checksum == report.checksum and len(run.checksum) == 64
    # The only updates: TAH and RXY, renamed since ERIC 2024/25, take NHS England's names.
    assert (run.rows_read, run.created, run.updated) == (8771, report.created, 2)
    assert run.skipped == 3264
    assert run.finished_at is not None
    assert run.report == str(report)
    observation = Observation.objects.get(
        trust__ods_code="RGD", metric__code="OF0084", quarter__year_start=2025, quarter__number=1
    )
    assert (observation.import_run, observation.source_line) == (run, 1164)
    first = observation.history.earliest("history_date")
    assert first.history_user == user
    # A value and its score arrive ~700 rows apart but make one record and one history entry.
    assert Observation.history.count() == Observation.objects.count()
    assert first.supplied_score == Decimal("2.85")
    assert first.history_change_reason == f"Imported from {NOF_FILE.name}"


def test_it_changes_nothing_when_the_same_file_is_imported_again(
    nof_loaded: ImportReport,
) -> None:
    before = snapshot()

    report = import_nof(NOF_FILE)

    assert (report.created, report.updated) == (0, 0)
    assert report.changes["observations"].unchanged == 5141
    assert snapshot() == before
    assert ImportRun.objects.get(pk=report.import_run_id).status == ImportRun.Status.IMPORTED


@pytest.mark.parametrize("already_loaded", [False, True], ids=["from-empty", "from-loaded"])
def test_it_saves_nothing_from_a_file_with_invalid_rows(
    eric_loaded: ImportReport,
    nof_table: NofTable,
    write_csv: Callable[..., Path],
    already_loaded: bool,
) -> None:
    if already_loaded:
        import_nof(NOF_FILE)
    header, rows = nof_table
    rows = [list(row) for row in rows]
    rows[10][column(header, "Value")] = "1.2x"  # line 12
    rows[500][column(header, "Trust_code")] = "ZZZ99"  # line 502
    rows.append(list(rows[300]))  # line 8773 repeats line 302
    observations_before = Observation.objects.count()
    before = snapshot()

    with pytest.raises(ImportRejected) as rejected:
        import_nof(write_csv("nof-broken.csv", [header, *rows]))

    assert Observation.objects.count() == observations_before
    assert snapshot() == before
    report = rejected.value.report
    assert report.error_count == 3
    described = report.error_lines()
    assert described[0] == 'nof-broken.csv:12: column "Value" value "1.2x": not a number'
    assert described[1] == (
        'nof-broken.csv:502: column "Trust_code" value "ZZZ99": unknown trust '
        "(not in the trust register)"
    )
    trust, metric, quarter = (
        rows[300][column(header, name)] for name in ("Trust_code", "Metric_ID", "Quarter")
    )
    assert described[2] == (
        f'nof-broken.csv:8773: column "Metric_ID" value "{metric}": duplicate: trust {trust}, '
        f"{metric} and {quarter} are already on line 302"
    )
    text = str(report)
    assert "REJECTED: 3 invalid rows; nothing was saved." in text
    assert all(line in text for line in described)
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert run.status == ImportRun.Status.REJECTED
    assert [error["line"] for error in run.errors] == [12, 502, 8773]
    assert (run.created, run.updated) == (0, 0)


def test_it_updates_only_the_corrected_row_and_keeps_the_old_value_in_history(
    nof_loaded: ImportReport, nof_table: NofTable, write_csv: Callable[..., Path]
) -> None:
    header, rows = nof_table
    rows = [list(row) for row in rows]
    index = find_row(header, rows, "RGD", "OF0084", "Q1 2025/26")
    rows[index][column(header, "Value")] = "7.35"
    # A corrected value comes with its corrected score (test_stale_scores.py).
    rows[find_row(header, rows, "RGD", "OF1084", "Q1 2025/26")][column(header, "Value")] = "2.8"
    before = dict(Observation.objects.values_list("pk", "value").order_by("pk"))
    history_before = Observation.history.count()

    report = import_nof(write_csv("nof-corrected.csv", [header, *rows]))

    after = dict(Observation.objects.values_list("pk", "value").order_by("pk"))
    changed = [pk for pk in before if before[pk] != after[pk]]
    assert len(changed) == 1
    observation = Observation.objects.get(pk=changed[0])
    assert (observation.trust.ods_code, observation.metric.code) == ("RGD", "OF0084")
    assert observation.value == Decimal("7.35")
    assert observation.supplied_score == Decimal("2.8")
    assert (report.changes["observations"].updated, report.created) == (1, 0)
    assert Observation.history.count() == history_before + 1
    latest, previous = observation.history.order_by("-history_date", "-history_id")[:2]
    assert (latest.value, latest.history_type) == (Decimal("7.35"), "~")
    assert previous.value == Decimal("7.01")
    assert latest.history_change_reason == "Imported from nof-corrected.csv"
    assert observation.import_run_id == report.import_run_id


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_it_imports_a_file_identically_in_each_encoding(
    eric_loaded: ImportReport,
    nof_table: NofTable,
    write_csv: Callable[..., Path],
    encoding: str,
) -> None:
    header, rows = nof_table
    small = [
        list(rows[find_row(header, rows, "RGD", metric, "Q1 2025/26")])
        for metric in ("OF0084", "OF1084", "OF1080", "OF5004")
    ]
    for row in small:
        # Characters that differ between the encodings: a pound sign and a no-break space.
        row[column(header, "Metric_description")] += " (£)\u00a0"
    path = write_csv(f"nof-small-{encoding}.csv", [header, *small], encoding=encoding)

    report = import_nof(path)

    assert report.encoding == encoding
    assert report.rows_read == 4
    assert sorted(Observation.objects.values_list("metric__code", "value", "supplied_score")) == [
        ("OF0084", Decimal("7.01"), Decimal("2.85")),
        ("OF1080", None, Decimal("1")),
    ]
    status = TrustQuarterStatus.objects.get()
    assert (status.trust.ods_code, status.in_financial_deficit) == ("RGD", False)


def test_it_rejects_unknown_metrics_bad_flags_and_bad_quarters(
    eric_loaded: ImportReport, nof_table: NofTable, write_csv: Callable[..., Path]
) -> None:
    header, rows = nof_table
    base = rows[find_row(header, rows, "RGD", "OF5004", "Q1 2025/26")]
    edits = [
        {"Metric_ID": "OF9999"},
        {"Metric_ID": "OF4001"},  # not one of the derived outputs: never guessed
        {"Value": "2.0"},  # a flag is 0 or 1
        {"Quarter": "Q5 2025/26"},
        {"Quarter": "Q1 2025/27"},
        {"Quarter": "2025/26 Q1"},
        {"Value": "", "Quarter": "Q2 2025/26"},
    ]
    bad_rows = []
    for edit in edits:
        row = list(base)
        for name, value in edit.items():
            row[column(header, name)] = value
        bad_rows.append(row)

    with pytest.raises(ImportRejected) as rejected:
        import_nof(write_csv("nof-bad.csv", [header, *bad_rows]))

    errors = [(e.line, e.column, e.value) for e in rejected.value.report.errors]
    assert errors == [
        (2, "Metric_ID", "OF9999"),
        (3, "Metric_ID", "OF4001"),
        (4, "Value", "2.0"),
        (5, "Quarter", "Q5 2025/26"),
        (6, "Quarter", "Q1 2025/27"),
        (7, "Quarter", "2025/26 Q1"),
        (8, "Value", ""),
    ]
    assert not Quarter.objects.filter(year_start__gt=2025).exists()
    assert not TrustQuarterStatus.objects.exists()


def test_it_leaves_a_status_alone_when_the_file_has_no_flag_rows_for_it(
    eric_loaded: ImportReport,
) -> None:
    # OF5007 (Recovery Support Programme) is only published for Q1 and Q2.
    q3 = Quarter.objects.get(year_start=2025, number=3)
    trust = Trust.objects.get(ods_code="RGD")
    TrustQuarterStatus.objects.create(
        trust=trust, quarter=q3, in_recovery_support=True, reason="Regulator decision"
    )

    import_nof(NOF_FILE)

    status = TrustQuarterStatus.objects.get(trust=trust, quarter=q3)
    assert status.in_recovery_support is True
    assert status.reason == "Regulator decision"
    assert status.in_financial_deficit is False


def test_it_rejects_a_file_without_the_nof_columns(
    db: None, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "not-nof.csv", [["Quarter", "Trust_code", "Metric"], ["Q1 2025/26", "RGD", "x"]]
    )

    with pytest.raises(ImportRejected) as rejected:
        import_nof(path)

    missing = {(e.line, e.column) for e in rejected.value.report.errors}
    assert missing == {(1, "Metric_ID"), (1, "Reporting_date"), (1, "Value")}


def test_it_imports_names_that_match_the_nof_files_names(
    eric_loaded: ImportReport, nof_table: NofTable
) -> None:
    """ERIC's upper-case names, cased by the importer, against NHS England's own spelling."""
    header, rows = nof_table
    published = {
        row[column(header, "Trust_code")]: row[column(header, "Trust_name")] for row in rows
    }
    ours = dict(Trust.objects.filter(ods_code__in=published).values_list("ods_code", "name"))

    different = {code for code in published if published[code] != ours[code]}

    # Both renamed after ERIC 2024/25 was collected; the etr.csv import brings the new names.
    assert different == {"TAH", "RXY"}


def published_release_of(trust_code: str, quarter: Quarter) -> object:
    """A published league table that `trust_code`'s data for `quarter` fed."""
    from metrics.models import Framework
    from releases.models import Release, TrustResult

    framework = Framework.objects.get(slug="nof-2025-26-mental-health-community")
    release = Release.objects.create(
        quarter=quarter, peer_group=framework.peer_group, framework=framework
    )
    trust = Trust.objects.get(ods_code=trust_code)
    TrustResult.objects.create(
        release=release,
        trust=trust,
        trust_name=trust.name,
        trust_subtype=trust.subtype,
        region_id=trust.region_id,
    )
    # Straight to published: the lifecycle's own checks are not what is under test here.
    Release.objects.filter(pk=release.pk).update(status=Release.Status.PUBLISHED)
    return release


def test_it_refuses_every_change_to_data_a_published_release_was_computed_from(
    nof_loaded: ImportReport, nof_table: NofTable, write_csv: Callable[..., Path]
) -> None:
    published_release_of("RGD", Quarter.objects.get(year_start=2025, number=1))
    header, rows = nof_table
    rows = [list(row) for row in rows]
    fixed_value = find_row(header, rows, "RGD", "OF0084", "Q1 2025/26")
    fixed_flag = find_row(header, rows, "RGD", "OF5004", "Q1 2025/26")
    free = find_row(header, rows, "RGD", "OF0084", "Q2 2025/26")
    rows[fixed_value][column(header, "Value")] = "7.35"
    rows[fixed_flag][column(header, "Value")] = "1.0"
    rows[free][column(header, "Value")] = "7.35"
    rows[find_row(header, rows, "RGD", "OF1084", "Q2 2025/26")][column(header, "Value")] = "2.8"
    before = snapshot()

    with pytest.raises(ImportRejected) as rejected:
        import_nof(write_csv("nof-corrected.csv", [header, *rows]))

    errors = rejected.value.report.errors
    assert [(e.line, e.column, e.value) for e in errors] == [
        (fixed_value + 2, "Trust_code", "RGD"),
        (fixed_flag + 2, "Trust_code", "RGD"),
    ]
    assert "published" in errors[0].reason and "start a correction" in errors[0].reason
    assert snapshot() == before


def test_it_accepts_an_unchanged_file_after_publication(nof_loaded: ImportReport) -> None:
    published_release_of("RGD", Quarter.objects.get(year_start=2025, number=1))

    report = import_nof(NOF_FILE)

    assert (report.created, report.updated) == (0, 0)


def test_it_announces_the_changed_quarters_once_committed(
    eric_loaded: ImportReport, django_capture_on_commit_callbacks: Any
) -> None:
    from metrics.signals import observations_changed

    received: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        received.append(kwargs)

    observations_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            report = import_nof(NOF_FILE)
        assert received == []  # queued for the commit, not sent inside the transaction
        for callback in callbacks:
            callback()
        [sent] = received
        assert sent["quarter_ids"] == sorted(
            Quarter.objects.filter(year_start=2025).values_list("pk", flat=True)
        )
        assert sent["import_run_id"] == report.import_run_id

        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            import_nof(NOF_FILE)
        assert received == []  # nothing changed, nothing to recompute
    finally:
        observations_changed.disconnect(receiver)


def test_it_names_trusts_as_nhs_englands_newer_file_does(eric_loaded: ImportReport) -> None:
    assert Trust.objects.get(ods_code="TAH").name == (
        "Sheffield Health and Social Care NHS Foundation Trust"
    )

    report = import_nof(NOF_FILE)

    assert report.counts_for("trusts renamed").updated == 2
    tah = Trust.objects.get(ods_code="TAH")
    assert tah.name == "Sheffield Health Partnership University NHS Foundation Trust"
    assert Trust.objects.get(ods_code="RXY").name == "Kent and Medway Mental Health NHS Trust"
    old = tah.history.order_by("history_date").first()
    assert old.name == "Sheffield Health and Social Care NHS Foundation Trust"
    assert tah.history.first().history_change_reason.startswith("Renamed as")
    assert import_nof(NOF_FILE).counts_for("trusts renamed").updated == 0
