"""The import_trusts, import_nof and import_ae management commands."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from metrics.imports.base import ImportReport
from metrics.models import ImportRun, Observation
from tests.metrics.imports.helpers import AE_FILE, ERIC_FILE, NOF_FILE

pytestmark = pytest.mark.django_db


def test_it_imports_the_real_files_and_prints_the_reports() -> None:
    out = StringIO()

    call_command("import_trusts", str(ERIC_FILE), stdout=out)
    call_command("import_nof", str(NOF_FILE), stdout=out)
    call_command("import_ae", str(AE_FILE), stdout=out)

    text = out.getvalue()
    assert "trusts: 207 created, 0 updated" in text
    assert "derived by the portal, not imported" in text
    assert "not an NHS trust in the register" in text
    assert ImportRun.objects.filter(status=ImportRun.Status.IMPORTED).count() == 3


def test_it_records_who_imported(eric_loaded: ImportReport) -> None:
    user = get_user_model().objects.create_user("analyst")

    call_command("import_nof", str(NOF_FILE), "--user", "analyst", stdout=StringIO())

    run = ImportRun.objects.get(kind=ImportRun.Kind.NOF)
    assert run.imported_by == user
    assert {h.history_user for h in Observation.history.all()} == {user}


def test_it_exits_non_zero_and_lists_every_invalid_row_when_rejected(
    eric_loaded: ImportReport, tmp_path: Path
) -> None:
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    value, trust = rows[0].index("Value"), rows[0].index("Trust_code")
    rows[11][value] = "1.2x"  # line 12
    rows[501][trust] = "ZZZ99"  # line 502
    rows.append(list(rows[301]))  # line 8773 repeats line 302
    path = tmp_path / "nof-broken.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    err = StringIO()

    with pytest.raises(CommandError, match=r"nof-broken\.csv rejected: 3 invalid rows") as raised:
        call_command("import_nof", str(path), stdout=StringIO(), stderr=err)

    assert raised.value.returncode != 0
    errors = err.getvalue()
    assert 'nof-broken.csv:12: column "Value" value "1.2x": not a number' in errors
    assert 'nof-broken.csv:502: column "Trust_code" value "ZZZ99"' in errors
    assert "nof-broken.csv:8773:" in errors and "already on line 302" in errors
    assert not Observation.objects.exists()


def test_it_refuses_an_unknown_user_or_a_missing_file(db: None) -> None:
    with pytest.raises(CommandError, match='there is no user "nobody"'):
        call_command("import_trusts", str(ERIC_FILE), "--user", "nobody")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_ae", "/nonexistent/ae.csv")
    with pytest.raises(CommandError, match="not a financial year"):
        call_command("import_trusts", str(ERIC_FILE), "--year", "2024")
    assert not ImportRun.objects.exists()
