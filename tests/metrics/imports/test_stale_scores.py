"""A file that changes a value never leaves beside it the score supplied for the old value.

The case a tester met: a correction changed RYY's OF0057 (Urgent Community Response 2-hour
performance) in Q4 2025/26 from 86.02 to 95.5 with no new OF1057 row. The import kept NHS
England's score 2.06 for 86.02, so the corrected table showed 95.5% (above the peer upper
quartile) scored 2.06, as the trust's metric with most room to improve.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from metrics.imports import base
from metrics.imports.ae import import_ae
from metrics.imports.base import ImportRejected, ImportReport
from metrics.imports.nof import import_nof
from metrics.imports.uploads import receive_upload
from metrics.models import ImportRun, Observation
from tests.factories import quarter
from tests.metrics.imports.helpers import AE_FILE, Rows, snapshot

pytestmark = pytest.mark.django_db

NOF_HEADER_COLUMNS = ("Quarter", "Trust_code", "Metric_ID", "Value")
RYY_Q4 = ("Q4 2025/26", "RYY")


def ryy_of0057() -> Observation:
    return Observation.objects.get(trust__ods_code="RYY", metric__code="OF0057", quarter=quarter(4))


def rows_of(
    nof_table: tuple[list[str], Rows], *metric_ids: str
) -> tuple[list[str], dict[str, list[str]]]:
    """The real file's Q4 RYY rows of `metric_ids`, as copies to edit."""
    header, rows = nof_table
    index = {name: header.index(name) for name in NOF_HEADER_COLUMNS}
    found = {
        row[index["Metric_ID"]]: list(row)
        for row in rows
        if (row[index["Quarter"]], row[index["Trust_code"]]) == RYY_Q4
        and row[index["Metric_ID"]] in metric_ids
    }
    assert set(found) == set(metric_ids)
    return header, found


def with_value(header: list[str], row: list[str], value: str) -> list[str]:
    changed = list(row)
    changed[header.index("Value")] = value
    return changed


def test_the_real_file_stores_ryys_of0057_with_nhs_englands_score(
    nof_loaded: ImportReport,
) -> None:
    observation = ryy_of0057()
    assert (observation.value, observation.supplied_score) == (Decimal("86.02"), Decimal("2.06"))


def test_it_refuses_a_new_value_without_its_score_naming_the_trust_metric_and_stale_score(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
) -> None:
    header, found = rows_of(nof_table, "OF0057")
    before = snapshot()
    path = write_csv("ryy-correction.csv", [header, with_value(header, found["OF0057"], "95.5")])

    with pytest.raises(ImportRejected) as rejected:
        import_nof(path)

    report = rejected.value.report
    assert report.error_count == 1
    error = report.errors[0]
    assert (error.line, error.column, error.value) == (2, "Value", "95.5")
    assert error.reason.startswith(
        "RYY OF0057 Q4 2025/26: the value would change from 86.02 to 95.5 but keep the "
        "supplied score 2.06 (OF1057), which was given for 86.02: add the OF1057 row for RYY "
        "in Q4 2025/26"
    )
    assert 'ryy-correction.csv:2: column "Value" value "95.5": RYY OF0057 Q4 2025/26' in str(report)
    assert "nothing was saved" in str(report)
    # Nothing half-saved: the value, its score and the history are as they were.
    assert snapshot() == before
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors[0]["reason"] == error.reason


def test_it_refuses_a_whole_file_with_one_value_edited_and_its_old_score_left(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
) -> None:
    """The likeliest way to make the mistake: NHS England's whole file again with one cell
    edited. Its OF1057 row, 635 lines further on, still gives 2.06, the score for 86.02."""
    header, rows = nof_table
    index = {name: header.index(name) for name in NOF_HEADER_COLUMNS}
    changed = [list(row) for row in rows]
    lines = {}
    for line, row in enumerate(changed, start=2):
        key = (row[index["Quarter"]], row[index["Trust_code"]], row[index["Metric_ID"]])
        if key == (*RYY_Q4, "OF0057"):
            row[index["Value"]] = "95.5"
        if key[:2] == RYY_Q4 and key[2] in ("OF0057", "OF1057"):
            lines[key[2]] = line
    assert lines == {"OF0057": 6814, "OF1057": 7449}
    before = snapshot()

    with pytest.raises(ImportRejected) as rejected:
        import_nof(write_csv("nof-corrected.csv", [header, *changed]))

    [error] = rejected.value.report.errors
    assert (error.line, error.column, error.value) == (6814, "Value", "95.5")
    assert error.reason == (
        "RYY OF0057 Q4 2025/26: the value would change from 86.02 to 95.5 but keep the "
        "supplied score 2.06 (OF1057), which was given for 86.02: this file's OF1057 row for "
        "RYY in Q4 2025/26 gives that score again; correct it to the score for the new value "
        "(if the old score does hold for the new value, change the value in the admin, "
        "Observations, and confirm the score there)"
    )
    assert snapshot() == before


def test_it_accepts_the_same_correction_with_the_corrected_score(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
) -> None:
    header, found = rows_of(nof_table, "OF0057", "OF1057")
    path = write_csv(
        "ryy-correction.csv",
        [
            header,
            with_value(header, found["OF0057"], "95.5"),
            with_value(header, found["OF1057"], "1.0"),
        ],
    )

    report = import_nof(path)

    observation = ryy_of0057()
    assert (observation.value, observation.supplied_score) == (Decimal("95.5"), Decimal(1))
    assert observation.history.first().history_change_reason == "Imported from ryy-correction.csv"
    assert report.updated == 1


@pytest.mark.parametrize("score_first", [False, True])
def test_it_refuses_the_old_score_stated_again_beside_a_new_value(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    score_first: bool,
) -> None:
    header, found = rows_of(nof_table, "OF0057", "OF1057")
    value = with_value(header, found["OF0057"], "86.03")
    rows = [found["OF1057"], value] if score_first else [value, found["OF1057"]]
    before = snapshot()

    with pytest.raises(ImportRejected) as rejected:
        import_nof(write_csv("ryy-correction.csv", [header, *rows]))

    [error] = rejected.value.report.errors
    assert (error.line, error.value) == (3 if score_first else 2, "86.03")
    assert "keep the supplied score 2.06 (OF1057)" in error.reason
    assert "gives that score again" in error.reason
    assert snapshot() == before


@pytest.mark.parametrize("score_first", [False, True])
def test_it_finds_the_score_row_in_another_chunk_of_the_file(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    score_first: bool,
) -> None:
    """However far apart the value and score rows are, the file is judged as a whole."""
    monkeypatch.setattr(base, "CHUNK_SIZE", 2)
    header, rows = nof_table
    index = {name: header.index(name) for name in NOF_HEADER_COLUMNS}
    others = [
        row
        for row in rows
        if row[index["Quarter"]] == "Q3 2025/26" and row[index["Metric_ID"]] == "OF0057"
    ][:12]
    _, found = rows_of(nof_table, "OF0057", "OF1057")
    value, score = (
        with_value(header, found["OF0057"], "95.5"),
        with_value(header, found["OF1057"], "1.0"),
    )
    first, last = (score, value) if score_first else (value, score)

    import_nof(write_csv("spread.csv", [header, first, *others, last]))

    observation = ryy_of0057()
    assert (observation.value, observation.supplied_score) == (Decimal("95.5"), Decimal(1))


def test_it_refuses_the_old_score_stated_again_in_another_chunk(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base, "CHUNK_SIZE", 2)
    header, rows = nof_table
    index = {name: header.index(name) for name in NOF_HEADER_COLUMNS}
    others = [
        row
        for row in rows
        if row[index["Quarter"]] == "Q3 2025/26" and row[index["Metric_ID"]] == "OF0057"
    ][:12]
    _, found = rows_of(nof_table, "OF0057", "OF1057")
    path = write_csv(
        "spread.csv",
        [header, with_value(header, found["OF0057"], "95.5"), *others, found["OF1057"]],
    )
    before = snapshot()

    with pytest.raises(ImportRejected) as rejected:
        import_nof(path)

    [error] = rejected.value.report.errors
    assert (error.line, error.value) == (2, "95.5")
    assert "gives that score again" in error.reason
    assert snapshot() == before


def test_it_lists_every_stale_score_in_a_file(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base, "CHUNK_SIZE", 2)
    header, found = rows_of(nof_table, "OF0057", "OF0082", "OF0086")
    rows = [with_value(header, found[code], "50") for code in ("OF0057", "OF0082", "OF0086")]

    with pytest.raises(ImportRejected) as rejected:
        import_nof(write_csv("three.csv", [header, *rows]))

    errors = rejected.value.report.errors
    assert [(e.line, e.value) for e in errors] == [(2, "50"), (3, "50"), (4, "50")]
    assert [e.reason.split(":")[0] for e in errors] == [
        "RYY OF0057 Q4 2025/26",
        "RYY OF0082 Q4 2025/26",
        "RYY OF0086 Q4 2025/26",
    ]


def test_an_admin_upload_of_the_value_alone_is_refused_before_anything_is_saved(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    settings: Any,
    tmp_path: Path,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path / "media"
    header, found = rows_of(nof_table, "OF0057")
    path = write_csv("ryy-correction.csv", [header, with_value(header, found["OF0057"], "95.5")])
    before = snapshot()

    run = receive_upload(
        ImportRun.Kind.NOF, SimpleUploadedFile(path.name, path.read_bytes()), user=None
    )

    assert run.status == ImportRun.Status.REJECTED
    [error] = run.errors
    assert (error["line"], error["column"], error["value"]) == (2, "Value", "95.5")
    assert "RYY OF0057 Q4 2025/26" in error["reason"] and "2.06 (OF1057)" in error["reason"]
    assert snapshot() == before


def test_a_sitrep_that_changes_a_value_with_a_supplied_score_is_refused(
    nof_loaded: ImportReport, write_csv: Callable[..., Path]
) -> None:
    """Whatever file changes a value: an A&E sitrep carries no scores at all."""
    import_ae(AE_FILE)
    observation = Observation.objects.filter(metric__code="AE4H").order_by("trust").first()
    Observation.objects.filter(pk=observation.pk).update(
        value=observation.value + 1, supplied_score=Decimal("1.5")
    )
    before = snapshot()

    with pytest.raises(ImportRejected) as rejected:
        import_ae(AE_FILE)

    [error] = rejected.value.report.errors
    code = observation.trust.ods_code
    assert error.reason.startswith(f"{code} AE4H {observation.quarter.label}: the value would")
    assert "keep the supplied score 1.5" in error.reason
    assert "a sitrep carries no scores" in error.reason
    assert snapshot() == before
