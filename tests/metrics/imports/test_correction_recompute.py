"""Corrections end to end: importing corrected data recomputes the correction draft."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from leaguetable import roles
from leaguetable.workspace import regulator_todo
from metrics.imports.base import ImportReport
from metrics.imports.nof import import_nof
from metrics.models import Observation
from releases.models import Release
from releases.services import computation, lifecycle
from releases.services.drafts import draft_release
from tests.factories import quarter, user_with_role
from tests.metrics.imports.helpers import Rows

pytestmark = pytest.mark.django_db

PEER_GROUP = "mental-health-community"


def _todo(user: Any) -> dict[str, Any]:
    return {item.key: item for section in regulator_todo(user) for item in section.items}


def test_an_import_that_changes_a_corrections_inputs_recomputes_it(
    nof_loaded: ImportReport,
    nof_table: tuple[list[str], Rows],
    write_csv: Callable[..., Path],
    django_capture_on_commit_callbacks: Any,
) -> None:
    analyst = user_with_role("analyst", roles.ANALYST)
    approver = user_with_role("approver", roles.APPROVER)
    release = draft_release(quarter(4), PEER_GROUP)
    release.replicates = 50
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.submit(release, analyst)
        lifecycle.approve(release, approver)
        lifecycle.publish_now(release, approver)
    correction = lifecycle.start_correction(release, analyst, "R1A's OF0005 was misreported.")
    assert correction.computation == Release.Computation.NOT_COMPUTED

    header, rows = nof_table
    index = {name: header.index(name) for name in ("Quarter", "Trust_code", "Metric_ID", "Value")}
    changed = [list(row) for row in rows]
    [target] = [
        row
        for row in changed
        if (row[index["Quarter"]], row[index["Trust_code"]], row[index["Metric_ID"]])
        == ("Q4 2025/26", "R1A", "OF0005")
    ]
    target[index["Value"]] = "0.5"
    # With its corrected score: a new value never keeps the score supplied for the old one.
    [score] = [
        row
        for row in changed
        if (row[index["Quarter"]], row[index["Trust_code"]], row[index["Metric_ID"]])
        == ("Q4 2025/26", "R1A", "OF1005")
    ]
    score[index["Value"]] = "1.0"
    with django_capture_on_commit_callbacks(execute=True):
        import_nof(write_csv("nof-corrected.csv", [header, *changed]))

    correction.refresh_from_db()
    assert Observation.objects.get(
        trust__ods_code="R1A", metric__code="OF0005", quarter=quarter(4)
    ).value == Decimal("0.5")
    assert correction.computation == Release.Computation.COMPUTED
    assert correction.input_checksum and correction.input_checksum != release.input_checksum
    # It waits on the analyst's to-do list, named as a correction.
    item = _todo(analyst)["todo-to-submit"]
    assert [(e.text, e.note) for e in item.examples] == [
        (str(correction), f"correction of revision {release.revision}")
    ]
