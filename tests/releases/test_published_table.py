"""From the real NHS England files, through the database, to NHS England's published table.

Replays the published MH&C data (supplied scores, the METHODOLOGY section 4 thresholds) through
the importers, the release computation and the export, and compares with the published file.
"""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from metrics.imports.nof import import_nof
from releases.models import Release, TrustResult
from releases.selectors import league_table_csv
from releases.services import computation
from releases.services.drafts import draft_release, parse_quarter
from tests.conftest import LEAGUE_TABLE_FILE, NOF_FILE

pytestmark = pytest.mark.django_db
PEER_GROUP = "mental-health-community"


def published_table() -> dict[str, dict[str, str]]:
    with LEAGUE_TABLE_FILE.open(encoding="utf-8-sig", newline="") as file:
        return {row["Trust_code"]: row for row in csv.DictReader(file)}


def compute(label: str, replicates: int = 5000) -> Release:
    release = draft_release(parse_quarter(label), PEER_GROUP)
    release.replicates = replicates
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return release


def span(text: str) -> tuple[float, float]:
    low, high = text.split(" to ")
    return float(low), float(high)


def test_it_reproduces_the_published_q4_league_table(real_nof: None) -> None:
    release = compute("Q4 2025/26")
    ours = {
        row["Trust_code"]: row
        for row in csv.DictReader(io.StringIO(league_table_csv(release).removeprefix("\ufeff")))
    }
    published = published_table()

    assert set(ours) == set(published)
    assert len(ours) == 61
    ranges_close = 0
    for code, theirs in published.items():
        mine = ours[code]
        assert mine["Segment"] == theirs["Segment"], code
        assert mine["Rank"] == theirs["Rank"], code
        assert abs(Decimal(mine["Average_score"]) - Decimal(theirs["Average_score"])) <= (
            Decimal("0.01")
        ), code
        assert mine["Trust_in_financial_deficit"] == theirs["Trust_in_financial_deficit"], code
        assert mine["Region"] == theirs["Region"], code
        assert mine["Trust_subtype"] == theirs["Trust_subtype"], code
        (a_lo, a_hi), (b_lo, b_hi) = (
            span(mine["Likely_range_of_average_score"]),
            span(theirs["Likely_range_of_average_score"]),
        )
        (r_lo, r_hi), (s_lo, s_hi) = (
            span(mine["Likely_range_of_rank"]),
            span(theirs["Likely_range_of_rank"]),
        )
        if (
            max(abs(a_lo - b_lo), abs(a_hi - b_hi)) <= 0.05 + 1e-9
            and max(abs(r_lo - s_lo), abs(r_hi - s_hi)) <= 3
        ):
            ranges_close += 1
    assert ranges_close >= 58


def test_it_writes_the_columns_and_value_formats_of_nhs_englands_file(real_nof: None) -> None:
    text = league_table_csv(compute("Q4 2025/26", replicates=200))
    published = LEAGUE_TABLE_FILE.read_bytes()

    assert text.encode("utf-8").split(b"\r\n")[0] == published.split(b"\r\n")[0]
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1:]
    number = re.compile(r"^\d+\.\d{1,2}$")
    for row in rows:
        assert number.match(row[6]) and number.match(row[8]) and number.match(row[10]), row
        assert re.match(r"^\d+\.\d{1,2} to \d+\.\d{1,2}$", row[7]), row
        assert re.match(r"^\d+ to \d+$", row[11]), row
        assert row[9] in ("Yes", "No")
        assert row[2] == "Mental health and community trust"


@pytest.mark.parametrize("label", ["Q1 2025/26", "Q2 2025/26", "Q3 2025/26"])
def test_it_reproduces_the_published_segments_of_earlier_quarters(
    real_nof: None, label: str
) -> None:
    release = compute(label, replicates=0)
    final_segments = published_final_segments(label)

    ours = dict(
        TrustResult.objects.filter(release=release).values_list("trust__ods_code", "segment")
    )
    assert len(ours) == 61
    assert ours == final_segments


def published_final_segments(label: str) -> dict[str, int]:
    """OF5005 (final segment override) where published, otherwise OF5000 (adjusted segment)."""
    adjusted: dict[str, int] = {}
    final: dict[str, int] = {}
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            if row["Quarter"] != label:
                continue
            if row["Metric_ID"] == "OF5000":
                adjusted[row["Trust_code"]] = int(float(row["Value"]))
            elif row["Metric_ID"] == "OF5005":
                final[row["Trust_code"]] = int(float(row["Value"]))
    return {**adjusted, **final}


def test_it_computes_and_exports_from_the_command_line(real_nof: None, tmp_path, capsys) -> None:
    call_command(
        "compute_release",
        "--quarter",
        "Q4 2025/26",
        "--peer-group",
        PEER_GROUP,
        "--thresholds",
        "2.065,2.30,2.585",
        "--replicates",
        "300",
        "--seed",
        "3",
    )
    output = tmp_path / "table.csv"
    call_command(
        "export_league_table",
        "--quarter",
        "Q4 2025/26",
        "--peer-group",
        PEER_GROUP,
        "--output",
        str(output),
    )

    release = Release.objects.get(quarter__number=4, peer_group__slug=PEER_GROUP)
    assert (release.seed, release.replicates) == (3, 300)
    assert (release.t1, release.t2, release.t3) == (
        Decimal("2.065"),
        Decimal("2.3"),
        Decimal("2.585"),
    )
    assert "Computed 61 trusts" in release.progress_message
    assert output.read_bytes() == league_table_csv(release).encode("utf-8")
    assert "100.0%" in capsys.readouterr().out


def test_it_refuses_bad_command_line_arguments(real_nof: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="three increasing"):
        call_command(
            "compute_release",
            "--quarter",
            "Q4 2025/26",
            "--peer-group",
            PEER_GROUP,
            "--thresholds",
            "2.3,2.1,2.5",
        )
    with pytest.raises(CommandError, match="Q4 2025/26"):
        call_command("compute_release", "--quarter", "2025 Q4", "--peer-group", PEER_GROUP)
    with pytest.raises(CommandError, match="unknown"):
        call_command("compute_release", "--quarter", "Q4 2025/26", "--peer-group", "dental")


def test_it_recomputes_a_changed_quarter_after_an_import(
    real_nof: None, tmp_path, django_capture_on_commit_callbacks
) -> None:
    release = compute("Q4 2025/26", replicates=50)
    corrected = tmp_path / "corrected.csv"
    text = NOF_FILE.read_text(encoding="utf-8-sig")
    line = next(
        row for row in text.splitlines() if row.startswith("Q4 2025/26") and ",OF1084," in row
    )
    fields = line.split(",")
    fields[-5] = "1.0" if fields[-5] != "1.0" else "2.0"
    corrected.write_text(text.replace(line, ",".join(fields)), encoding="utf-8")

    with django_capture_on_commit_callbacks(execute=True):
        import_nof(corrected)

    release.refresh_from_db()
    assert release.computation == Release.Computation.COMPUTED
    assert release.input_checksum == computation.load_inputs(release).checksum


def test_it_ranks_recovery_support_trusts_as_the_framework_says(real_nof: None) -> None:
    """METHODOLOGY section 5 ranks segment 5 last; NHS England's Q1 file ranked by OF5000."""
    release = compute("Q1 2025/26", replicates=0)
    ranks = dict(TrustResult.objects.filter(release=release).values_list("trust__ods_code", "rank"))
    assert sorted(ranks[code] for code in ("RHA", "RW1", "RXV")) == [59, 60, 61]

    framework = release.framework
    framework.rank_recovery_support_by_adjusted_segment = True
    framework.save()
    computation.compute(release.pk)

    ranks = dict(TrustResult.objects.filter(release=release).values_list("trust__ods_code", "rank"))
    assert (ranks["RW1"], ranks["RHA"], ranks["RXV"]) == (33, 56, 58)
