"""The audit trail records bulk changes too: imports through simple-history's bulk helpers, and
recomputes on the release's own history."""

from pathlib import Path
from typing import Any

from metrics.imports.nof import import_nof
from metrics.models import Observation, TrustQuarterStatus
from releases.models import Release
from releases.services.computation import compute
from tests.factories import make_trusts


def write(path: Path, *rows: str) -> Path:
    path.write_text("Quarter,Trust_code,Metric_ID,Reporting_date,Value\n" + "".join(rows))
    return path


def test_it_records_every_row_of_a_bulk_import_in_the_history(analyst: Any, tmp_path: Path) -> None:
    trusts = make_trusts(2)
    codes = [t.ods_code for t in trusts]
    first = write(
        tmp_path / "nof-a.csv",
        f"Q1 2026/27,{codes[0]},OF0005,Jun-26,1.5\n",
        f"Q1 2026/27,{codes[1]},OF0005,Jun-26,2.5\n",
        f"Q1 2026/27,{codes[1]},OF5004,Jun-26,1\n",
    )
    import_nof(first, user=analyst)
    corrected = write(
        tmp_path / "nof-b.csv",
        f"Q1 2026/27,{codes[0]},OF0005,Jun-26,1.75\n",
        f"Q1 2026/27,{codes[1]},OF0005,Jun-26,2.5\n",
    )
    import_nof(corrected, user=analyst)

    changed = Observation.objects.get(trust=trusts[0])
    history = list(changed.history.order_by("history_date", "history_id"))
    assert [(h.history_type, str(h.value), h.history_change_reason) for h in history] == [
        ("+", "1.500000", "Imported from nof-a.csv"),
        ("~", "1.750000", "Imported from nof-b.csv"),
    ]
    assert {h.history_user for h in history} == {analyst}
    unchanged = Observation.objects.get(trust=trusts[1])
    assert unchanged.history.count() == 1  # the same value again writes nothing
    flag = TrustQuarterStatus.objects.get(trust=trusts[1])
    assert flag.history.get().in_financial_deficit


def test_it_records_each_recompute_on_the_release_history(release: Release) -> None:
    before = release.history.count()
    compute(release.pk, force=True)
    latest = release.history.first()
    assert release.history.count() == before + 1
    assert latest.history_change_reason == "Recomputed"
