"""Paths to the real NHS files and plain helpers shared by the importer tests."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from metrics.imports.nof import NOF_DERIVED, NOF_FLAGS
from metrics.models import Metric, Observation, TrustQuarterStatus
from tests.conftest import NHS_DATA

ERIC_FILE = NHS_DATA / "eric-2024-25-trust-data.csv"
NOF_FILE = NHS_DATA / "nof-2025-26-mental-health-community-trust-data.csv"
AE_FILE = NHS_DATA / "ae-monthly-sitrep-2026-05.csv"
COMPLAINTS_FILE = NHS_DATA / "ko41a-written-complaints-2024-25-org-level.csv"
SURVEY_FILE = NHS_DATA / "cqc-adult-inpatient-survey-2022-trust-benchmark.ods"

ROW_PATTERN = re.compile(r"<table:table-row\b.*?</table:table-row>", re.DOTALL)
CELL_PATTERN = re.compile(r"<table:table-cell\b[^>]*?(?:/>|>.*?</table:table-cell>)", re.DOTALL)

Rows = list[list[str]]


def nof_expected_observations(header: list[str], rows: Rows) -> set[tuple[str, str, str]]:
    """The distinct (trust, metric code, quarter) a NOF file implies, worked out without the
    importer: a score row (OF1084) belongs to the metric whose score_code it is."""
    metric_of: dict[str, str] = {}
    for code, score_code in Metric.objects.values_list("code", "score_code"):
        metric_of[code] = code
        if score_code:
            metric_of[score_code] = code
    index = {name: i for i, name in enumerate(header)}
    expected = set()
    for row in rows:
        metric_id = row[index["Metric_ID"]]
        if metric_id in NOF_DERIVED or metric_id in NOF_FLAGS:
            continue
        expected.add((row[index["Trust_code"]], metric_of[metric_id], row[index["Quarter"]]))
    return expected


def stored_observations() -> set[tuple[str, str, str]]:
    return {
        (trust, metric, f"Q{number} {year}/{(year + 1) % 100:02d}")
        for trust, metric, number, year in Observation.objects.values_list(
            "trust__ods_code", "metric__code", "quarter__number", "quarter__year_start"
        )
    }


def snapshot() -> dict[str, Any]:
    """Everything a performance import can change, to compare before and after."""
    return {
        "observations": sorted(
            Observation.objects.values_list(
                "trust_id",
                "metric_id",
                "quarter_id",
                "value",
                "supplied_score",
                "reporting_period",
                "import_run_id",
                "source_line",
            )
        ),
        "statuses": sorted(
            TrustQuarterStatus.objects.values_list(
                "trust_id", "quarter_id", "in_financial_deficit", "in_recovery_support"
            )
        ),
        "observation_history": Observation.history.count(),
        "status_history": TrustQuarterStatus.history.count(),
    }


def ods_copy(source: Path, target: Path, sheet: str, changes: dict[tuple[str, str], str]) -> Path:
    """A copy of an .ods workbook with some cells of one sheet rewritten as text.

    `changes` maps (value in the row's first cell, header name) to the new text; "" empties
    the cell. Everything else, including the other sheets, is byte for byte the original.
    """
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    content = members["content.xml"].decode("utf-8")
    start = content.index(f'table:name="{sheet}"')
    end = content.index("</table:table>", start)
    rows = ROW_PATTERN.findall(content, start, end)
    header = [_cell_text(cell) for cell in CELL_PATTERN.findall(rows[0])]
    edited = content[start:end]
    for row in rows[1:]:
        cells = CELL_PATTERN.findall(row)
        key = _cell_text(cells[0]) if cells else ""
        new_row = row
        for (row_key, column), text in changes.items():
            if row_key != key:
                continue
            index = header.index(column)
            replacement = (
                f'<table:table-cell office:value-type="string"><text:p>{text}</text:p>'
                "</table:table-cell>"
                if text
                else "<table:table-cell/>"
            )
            cells[index] = replacement
        if cells != CELL_PATTERN.findall(row):
            tail = row[row.rindex(CELL_PATTERN.findall(row)[-1]) :]
            tail = tail[len(CELL_PATTERN.findall(row)[-1]) :]
            opening = row[: row.index(">") + 1]
            new_row = opening + "".join(cells) + tail
            edited = edited.replace(row, new_row, 1)
    members["content.xml"] = (content[:start] + edited + content[end:]).encode("utf-8")
    with zipfile.ZipFile(target, "w") as archive:
        # The mimetype comes first and uncompressed, as OpenDocument requires.
        archive.writestr("mimetype", members.pop("mimetype"), zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED)
    return target


def _cell_text(cell: str) -> str:
    match = re.search(r"<text:p>(.*?)</text:p>", cell)
    return match[1] if match else ""


def ods_header_only(source: Path, target: Path, sheet: str) -> Path:
    """A copy of an .ods workbook whose `sheet` keeps its header row and no data rows."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    content = members["content.xml"].decode("utf-8")
    start = content.index(f'table:name="{sheet}"')
    end = content.index("</table:table>", start)
    header_end = ROW_PATTERN.search(content, start, end).end()
    members["content.xml"] = (content[:header_end] + content[end:]).encode("utf-8")
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("mimetype", members.pop("mimetype"), zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED)
    return target
