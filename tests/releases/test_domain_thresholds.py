"""Domain thresholds from a file (`compute_release --domain-thresholds FILE`), through the
database, to stored domain segments; bad files are refused whole, naming every bad row."""

import csv
from collections import defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from metrics import default_frameworks
from releases.models import Release
from tests.conftest import NOF_FILE

pytestmark = pytest.mark.django_db
WHERE = ["--quarter", "Q4 2025/26", "--peer-group", "mental-health-community"]
Q4_THRESHOLDS = default_frameworks.MH_COMMUNITY_DOMAIN_THRESHOLDS[4]


def threshold_file(tmp_path: Path, rows: list[str], header: str = "Domain_ID,t1,t2,t3") -> Path:
    path = tmp_path / "domain-thresholds.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good_rows() -> list[str]:
    return [f"{domain_id},{','.join(values)}" for domain_id, values in Q4_THRESHOLDS.items()]


def compute_release(*extra: str) -> str:
    out = StringIO()
    call_command("compute_release", *WHERE, "--replicates", "1", *extra, stdout=out)
    return out.getvalue()


def published_domain_segments() -> dict[str, dict[str, int]]:
    """Trust code -> NHS England's domain segment ID -> its published Q4 segment."""
    segments: dict[str, dict[str, int]] = defaultdict(dict)
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            if row["Quarter"] == "Q4 2025/26" and row["Metric_ID"].startswith("OF41"):
                segments[row["Trust_code"]][row["Metric_ID"]] = int(float(row["Value"]))
    return segments


def test_a_threshold_file_reproduces_every_published_q4_domain_segment(
    real_nof: None, tmp_path: Path
) -> None:
    printed = compute_release("--domain-thresholds", str(threshold_file(tmp_path, good_rows())))

    release = Release.objects.get()
    assert release.domain_thresholds["access-to-services"] == {
        "method": "fixed",
        "t1": "1.81",
        "t2": "2.225",
        "t3": "2.75",
    }
    assert "OF4000 Access to services: 1.81 / 2.225 / 2.75 (fixed)" in printed
    segment_ids = {slug: ids[1] for slug, ids in default_frameworks.DOMAIN_IDS.items()}
    published = published_domain_segments()
    results = list(release.trust_results.select_related("trust"))
    assert len(results) == 61
    for result in results:
        ours = {segment_ids[slug]: segment for slug, segment in result.domain_segments.items()}
        assert ours == published[result.trust.ods_code], result.trust.ods_code


def test_without_a_file_the_domains_take_quartiles_and_say_so(real_nof: None) -> None:
    compute_release("--domain-quartiles")

    release = Release.objects.get()
    access = release.domain_thresholds["access-to-services"]
    assert access["method"] == "quartiles"
    assert float(access["t1"]) < float(access["t2"]) < float(access["t3"])
    assert all(result.domain_segments for result in release.trust_results.all())


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        (
            good_rows()[:-1],
            "Domain_ID,t1,t2,t3",
            ':6: column "Domain_ID" value "OF4005": no row for Effectiveness and experience',
        ),
        (
            [*good_rows()[:2], "OF4003,1.63,two,2.725", *good_rows()[3:]],
            "Domain_ID,t1,t2,t3",
            ':4: column "t2" value "two": not a number',
        ),
        (
            [*good_rows()[:4], "OF4005,1.9,1.8,2.5"],
            "Domain_ID,t1,t2,t3",
            ':6: column "t1,t2,t3" value "1.9,1.8,2.5": out of order',
        ),
        (
            [*good_rows()[:4], "OF4005,1.9,1.9,2.5"],
            "Domain_ID,t1,t2,t3",
            ':6: column "t1,t2,t3" value "1.9,1.9,2.5": out of order',
        ),
        (
            [*good_rows(), "OF4001,1.9,2.1,2.5"],
            "Domain_ID,t1,t2,t3",
            ':7: column "Domain_ID" value "OF4001": not a domain of',
        ),
        (
            [*good_rows(), "OF4000,1.9,2.1,2.5"],
            "Domain_ID,t1,t2,t3",
            ':7: column "Domain_ID" value "OF4000": OF4000 is already on line 2',
        ),
        (
            [*good_rows()[:4], "OF4005,1.9,2.1,nan"],
            "Domain_ID,t1,t2,t3",
            ':6: column "t3" value "nan": not a number',
        ),
        (
            [*good_rows()[:4], "OF4005,1.9,2.1,40"],
            "Domain_ID,t1,t2,t3",
            ':6: column "t3" value "40": outside the score scale',
        ),
        (good_rows(), "Domain,t1,t2", ':1: column "(row)" value "Domain,t1,t2": the header'),
    ],
    ids=[
        "missing-domain",
        "not-a-number",
        "out-of-order",
        "equal",
        "unknown-domain",
        "duplicate",
        "nan",
        "off-the-scale",
        "header",
    ],
)
def test_a_bad_threshold_file_is_refused_naming_the_row_and_nothing_is_saved(
    real_nof: None, tmp_path: Path, rows: list[str], header: str, expected: str
) -> None:
    path = threshold_file(tmp_path, rows, header)

    with pytest.raises(CommandError) as refused:
        compute_release("--domain-thresholds", str(path))

    assert f"{path}{expected}" in str(refused.value)
    assert "no domain thresholds were saved" in str(refused.value)
    assert not Release.objects.exists()


def test_a_refused_file_leaves_an_existing_draft_as_it_was(real_nof: None, tmp_path: Path) -> None:
    compute_release("--domain-thresholds", str(threshold_file(tmp_path, good_rows())))
    release = Release.objects.get()
    before = (release.domain_thresholds, release.input_checksum, release.history.count())
    segments = dict(release.trust_results.values_list("trust__ods_code", "domain_segments"))
    bad = threshold_file(tmp_path, [*good_rows()[:4], "OF4005,2.5,2.2,2.1"])

    with pytest.raises(CommandError, match="out of order"):
        compute_release("--domain-thresholds", str(bad), "--seed", "9")

    release.refresh_from_db()
    assert (release.domain_thresholds, release.input_checksum, release.history.count()) == before
    assert release.seed == 1
    assert dict(release.trust_results.values_list("trust__ods_code", "domain_segments")) == (
        segments
    )


def test_every_problem_in_a_file_is_listed_at_once(real_nof: None, tmp_path: Path) -> None:
    path = threshold_file(tmp_path, ["OF4000,1.8,x,2.7", "OF4002,3,2,1"])

    with pytest.raises(CommandError) as refused:
        compute_release("--domain-thresholds", str(path))

    message = str(refused.value)
    assert ':2: column "t2" value "x"' in message
    assert ':3: column "t1,t2,t3" value "3,2,1"' in message
    for missing in ("OF4003", "OF4004", "OF4005"):
        assert f'column "Domain_ID" value "{missing}": no row' in message


def test_changing_the_domain_thresholds_changes_the_checksum(
    real_nof: None, tmp_path: Path
) -> None:
    compute_release("--domain-thresholds", str(threshold_file(tmp_path, good_rows())))
    first = Release.objects.get().input_checksum
    moved = [row.replace("1.81,", "1.80,") for row in good_rows()]

    compute_release("--domain-thresholds", str(threshold_file(tmp_path, moved)))

    assert Release.objects.get().input_checksum != first


def test_a_domain_with_no_metrics_may_have_thresholds_and_a_stranger_may_not(db: None) -> None:
    from metrics.models import Domain
    from releases.services import computation
    from tests.factories import computed_release

    release = computed_release(trust_count=5, replicates=10)
    Domain.objects.create(framework=release.framework, slug="research", name="Research")
    fixed = {"method": "fixed", "t1": "1.5", "t2": "2", "t3": "3"}
    release.domain_thresholds = {**release.domain_thresholds, "research": fixed}
    release.save()

    assert computation.compute(release.pk, force=True) == computation.ComputationOutcome.COMPUTED
    release.refresh_from_db()
    assert release.domain_thresholds["research"] == fixed
    assert all("research" not in r.domain_segments for r in release.trust_results.all())

    release.domain_thresholds = {**release.domain_thresholds, "no-such-domain": fixed}
    release.save()
    with pytest.raises(computation.ReleaseNotComputable, match="'no-such-domain'"):
        computation.compute(release.pk, force=True)
    release.refresh_from_db()
    assert release.computation == Release.Computation.FAILED
    assert "not a domain of" in release.failure_reason


@pytest.mark.parametrize(
    "entry",
    [
        {"method": "fixed", "t1": "2", "t2": "1.5", "t3": "3"},
        {"method": "fixed", "t1": "1", "t2": "2"},
        {"method": "fixed", "t1": "x", "t2": "2", "t3": "3"},
        {"method": "guess"},
    ],
    ids=["out-of-order", "missing-t3", "not-a-number", "unknown-method"],
)
def test_stored_domain_thresholds_are_checked_before_computing(db: None, entry: dict) -> None:
    from releases.services import computation
    from tests.factories import computed_release

    release = computed_release(trust_count=5, replicates=10)
    before = dict(release.trust_results.values_list("trust_id", "domain_segments"))
    release.domain_thresholds = {"patient-safety": entry}
    release.save()

    with pytest.raises(computation.ReleaseNotComputable, match="patient-safety"):
        computation.compute(release.pk, force=True)

    assert dict(release.trust_results.values_list("trust_id", "domain_segments")) == before
