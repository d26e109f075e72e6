"""NHS England's trust data file out of a release: the Q4 2025/26 export against NHS England's
own published rows, and the file's form (BOM, columns, order, numbers as NHS England writes)."""

import csv
import io
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from metrics import default_frameworks
from releases.engine.data_file import DATA_FILE_COLUMNS
from releases.engine.league_table_file import format_number
from releases.models import Release
from releases.selectors import trust_data_csv
from releases.services import computation
from releases.services.drafts import draft_release, parse_quarter
from tests.conftest import NOF_FILE
from tests.factories import computed_release

pytestmark = pytest.mark.django_db
Q4 = "Q4 2025/26"
PEER_GROUP = "mental-health-community"
SCORES = {"OF4000", "OF4002", "OF4003", "OF4004", "OF4005", "OF5002"}
SEGMENTS_AND_FLAGS = {
    "OF4100",
    "OF4102",
    "OF4103",
    "OF4104",
    "OF4105",
    "OF5000",
    "OF5003",
    "OF5004",
}


def published_rows(quarter: str) -> dict[tuple[str, str], dict[str, str]]:
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as file:
        return {
            (row["Metric_ID"], row["Trust_code"]): row
            for row in csv.DictReader(file)
            if row["Quarter"] == quarter
        }


def rows_of(text: str) -> dict[tuple[str, str], dict[str, str]]:
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    assert tuple(reader.fieldnames or ()) == DATA_FILE_COLUMNS
    rows = list(reader)
    keys = [(row["Metric_ID"], row["Trust_code"]) for row in rows]
    assert len(set(keys)) == len(keys), "one row per metric and trust"
    assert keys == sorted(keys), "ordered by Metric_ID, then Trust_code"
    return dict(zip(keys, rows, strict=True))


def computed_real_quarter(quarter: str) -> Release:
    """The MH&C release of a quarter of NHS England's file (imported by `real_nof`), computed."""
    default_frameworks.install_domain_thresholds(apps)
    release = draft_release(parse_quarter(quarter), PEER_GROUP)
    release.replicates = 10
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return release


@pytest.fixture
def q4_release(real_nof: None) -> Release:
    return computed_real_quarter(Q4)


def test_the_q4_export_matches_nhs_englands_published_rows(q4_release: Release) -> None:
    ours = rows_of(trust_data_csv(q4_release))
    published = published_rows(Q4)

    metric_rows = {key for key in published if key[0][:3] in ("OF0", "OF1")}
    derived_rows = {key for key in published if key[0][:3] in ("OF4", "OF5")}
    assert len(metric_rows) == 1_284 and len(derived_rows) == 848
    assert metric_rows | derived_rows <= set(ours)
    for key in metric_rows:
        mine, theirs = ours[key], published[key]
        for column in ("Quarter", "Region", "Trust_type", "Trust_subtype", "Trust_code", "Units"):
            assert mine[column] == theirs[column], (key, column)
        assert mine["Value"] == theirs["Value"], key
        assert mine["Reporting_date"] == " ".join(theirs["Reporting_date"].split()), key
    exact_scores = 0
    for key in derived_rows:
        mine, theirs = Decimal(ours[key]["Value"]), Decimal(published[key]["Value"])
        if key[0] in SEGMENTS_AND_FLAGS:
            assert mine == theirs, key
        else:
            assert key[0] in SCORES
            # NHS England averaged unrounded metric scores, of which its file keeps 2 d.p.: a
            # replayed score halfway between two hundredths can round the other way.
            assert abs(mine - theirs) <= Decimal("0.01"), key
            exact_scores += mine == theirs
    scores = sum(1 for key in derived_rows if key[0] in SCORES)
    assert scores == 363
    assert exact_scores >= 300


def test_the_q4_export_carries_nhs_englands_labels_peer_statistics_and_ranks(
    q4_release: Release,
) -> None:
    ours = rows_of(trust_data_csv(q4_release))
    published = published_rows(Q4)

    for metric_id in ("OF4000", "OF4100", "OF5000", "OF5002", "OF5003", "OF5004"):
        mine, theirs = ours[metric_id, "RAT"], published[metric_id, "RAT"]
        for column in ("Domain", "Sub-domain", "Metric_description", "Reporting_date", "Units"):
            assert mine[column] == theirs[column], (metric_id, column)
    # NHS England publishes the final segment (OF5005) and the Recovery Support Programme flag
    # (OF5007) only for Q1 and Q2; the export has both for every quarter.
    assert ours["OF5005", "RAT"]["Value"] == "2.0"
    assert ours["OF5005", "RAT"]["Units"] == "segment"
    assert ours["OF5007", "RAT"]["Value"] == "0.0"
    assert ours["OF5007", "RAT"]["Units"] == "flag"
    assert ours["OF5007", "RAT"]["Metric_description"] == (
        "Is the organisation in the Recovery Support Programme?"
    )

    exact: Counter[str] = Counter()
    for key, theirs in published.items():
        mine = ours[key]
        for column in ("Median_value", "Lower_quartile", "Upper_quartile", "Rank"):
            if mine[column] == theirs[column]:
                exact[column] += 1
            elif column == "Rank":
                # Domain and average scores are ranked on their 2 d.p. values, a few of which
                # differ from NHS England's by 0.01 (see the test above).
                assert key[0][:3] in ("OF4", "OF5"), key
                assert abs(float(mine[column]) - float(theirs[column])) <= 2, (key, column)
            else:
                # Only OF0041's median is off: 8.765 exactly from the file's 2 d.p. values,
                # which NHS England's unrounded values put at 8.76.
                assert key[0] == "OF0041" and column == "Median_value", key
                assert (mine[column], theirs[column]) == ("8.77", "8.76")
    assert exact["Lower_quartile"] == exact["Upper_quartile"] == len(published)
    assert exact["Median_value"] == len(published) - 50
    # NHS England ranked unrounded metric values, which its file's 2 d.p. values tie: ranking
    # on the value, then the score (computed from the unrounded value), gives every one of its
    # metric ranks; the mismatches left are domain and average ranks.
    assert exact["Rank"] >= 0.95 * len(published)


@pytest.fixture
def small_release(db: None) -> Release:
    return computed_release(trust_count=6, replicates=20)


def test_export_data_file_writes_the_file_exactly(small_release: Release, tmp_path: Path) -> None:
    output = tmp_path / "trust-data.csv"
    err = StringIO()

    call_command(
        "export_data_file",
        "--quarter",
        Q4,
        "--peer-group",
        PEER_GROUP,
        "--output",
        output,
        stderr=err,
    )

    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(DATA_FILE_COLUMNS).encode() + b"\r\n")
    assert data.decode("utf-8") == trust_data_csv(small_release)
    assert f"Wrote {small_release}" in err.getvalue()
    printed = StringIO()
    call_command("export_data_file", "--quarter", Q4, "--peer-group", PEER_GROUP, stdout=printed)
    assert printed.getvalue() == trust_data_csv(small_release)
    rows = rows_of(printed.getvalue())
    trusts = {trust for _, trust in rows}
    assert len(trusts) == 6
    # Every trust has its summary, and a score and segment in each domain it has scores in.
    for trust in trusts:
        for metric_id in ("OF5000", "OF5002", "OF5003", "OF5004", "OF5005"):
            assert (metric_id, trust) in rows
    result = small_release.trust_results.select_related("trust").first()
    assert rows["OF4000", result.trust.ods_code]["Value"] == format_number(
        result.domain_scores["access-to-services"]
    )
    assert rows["OF4100", result.trust.ods_code]["Value"] == format_number(
        result.domain_segments["access-to-services"]
    )


@pytest.mark.parametrize(
    ("quarter", "peer_group", "message"),
    [
        ("Q5 2025/26", PEER_GROUP, 'write it as "Q4 2025/26"'),
        ("Q3 2025/26", PEER_GROUP, "No computed release"),
        (Q4, "no-such-group", "No computed release"),
    ],
)
def test_export_data_file_refuses_what_it_cannot_find(
    small_release: Release, quarter: str, peer_group: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("export_data_file", "--quarter", quarter, "--peer-group", peer_group)


@pytest.mark.parametrize(
    ("quarter", "in_programme"),
    [("Q1 2025/26", 3), ("Q2 2025/26", 2), ("Q3 2025/26", None)],
)
def test_every_quarters_export_gives_nhs_englands_metric_ranks_and_programme_flags(
    real_nof: None, quarter: str, in_programme: int | None
) -> None:
    ours = rows_of(trust_data_csv(computed_real_quarter(quarter)))
    published = published_rows(quarter)

    flags = {key: row for key, row in published.items() if key[0] == "OF5007"}
    if in_programme is None:  # not published that quarter: the export has it all the same
        assert not flags
        assert {ours[key]["Value"] for key in ours if key[0] == "OF5007"} == {"0.0"}
    else:
        assert sum(row["Value"] == "1.0" for row in flags.values()) == in_programme
        for key, theirs in flags.items():
            assert ours[key]["Value"] == theirs["Value"], key
    ranked = [key for key, row in published.items() if row["Rank"] and key[0][:3] in ("OF0", "OF1")]
    assert ranked
    assert [ours[key]["Rank"] for key in ranked] == [published[key]["Rank"] for key in ranked]


@pytest.mark.parametrize(
    ("values", "scores", "lower_is_better", "ranks"),
    [
        # Tied values told apart by their scores (lower first); equal scores share a rank.
        ([7.1, 7.1, 7.1, 6.0], [2.10, 2.00, 2.05, 1.0], True, [4, 2, 3, 1]),
        ([7.1, 7.1, 8.0], [2.0, 2.0, 1.0], False, [2, 2, 1]),
        # No value, no rank; a value with no score after its equals that have one.
        ([5.0, float("nan"), 5.0], [float("nan"), 1.0, 2.0], True, [2, 0, 1]),
    ],
)
def test_ranks_break_ties_of_the_value_by_the_score(values, scores, lower_is_better, ranks):
    from releases.engine.data_file import ranks_of

    assert ranks_of(values, lower_is_better, tie_breaker=scores).tolist() == ranks
