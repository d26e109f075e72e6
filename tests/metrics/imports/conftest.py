"""Fixtures for the importer tests: the real NHS files, and small files written on the spot.

Each test loads what it needs inside its own transaction. The real NOF file imports in well
under a second, so nothing is shared between tests and no test can see another's data.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from metrics.imports.base import ImportReport
from metrics.imports.nof import import_nof
from metrics.imports.register import import_trusts
from tests.metrics.imports.helpers import ERIC_FILE, NOF_FILE, Rows


@pytest.fixture
def eric_loaded(db: None) -> ImportReport:
    return import_trusts(ERIC_FILE)


@pytest.fixture
def nof_loaded(eric_loaded: ImportReport) -> ImportReport:
    return import_nof(NOF_FILE)


@pytest.fixture
def nof_table() -> tuple[list[str], Rows]:
    """The real NOF file as (header, rows), for tests that write altered copies of it."""
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows to a CSV file in the test's temporary directory and return its path."""

    def write(name: str, rows: Rows, encoding: str = "utf-8-sig") -> Path:
        path = tmp_path / name
        with path.open("w", encoding=encoding, newline="") as handle:
            csv.writer(handle, lineterminator="\r\n").writerows(rows)
        return path

    return write
