"""Metrics that do not measure a trust's kind, and metrics nobody reported, in NHS England's
real Q4 2025/26 MH&C table.

Community trusts provide no mental health crisis care, inpatient beds or community mental
health services, so OF0016, OF0063 and OF1035 are "not applicable" to them rather than "not
reported" (R1A, a community trust that runs mental health services too, reports all three and
is scored on them). No trust had a CQC "safe" rating (OF1067) that counted in Q4, so Q4 leaves
it out. RYY (Kent Community Health) did not report OF0041, which does apply to it: that one is
still "Not reported".
"""

import json
import re

import pytest
from django.urls import reverse

from leaguetable import roles
from metrics.models import MetricDefinition
from releases.models import MetricResult, Release, TrustResult
from releases.services import computation
from releases.services.drafts import draft_release, parse_quarter
from tests.factories import user_with_role
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db

MENTAL_HEALTH_ONLY = ("OF0016", "OF0063", "OF1035")
CRISIS_EXPLANATION = "Not measured for community trusts: a mental health crisis service."


@pytest.fixture
def real_q4(real_nof: None) -> Release:
    release = draft_release(parse_quarter("Q4 2025/26"), "mental-health-community")
    release.replicates = 50
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return publish(release)


def metric_row(page: str, code: str) -> str:
    """The text of every row of the trust page's metric tables that names `code` (a patient
    experience metric is also under "what patients say")."""
    rows = [text_of(row) for row in page.split("<tr") if f"({code};" in row]
    assert rows, code
    return " | ".join(rows)


def text_of(html: str) -> str:
    """The words of an HTML fragment (which may start inside the tag it was split at)."""
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"^[^<>]*>", "", html)).split())


def test_a_community_trust_page_says_not_applicable_and_leaves_out_unreported_metrics(
    client, real_q4
):
    page = client.get("/trusts/RYY/").content.decode()
    for code in MENTAL_HEALTH_ONLY:
        row = metric_row(page, code)
        assert "Not applicable" in row, code
        assert "Not reported" not in row, code
    assert CRISIS_EXPLANATION in metric_row(page, "OF0016")
    # OF0041 applies to community trusts and RYY did not report it.
    row = metric_row(page, "OF0041")
    assert "Not reported" in row and "Not applicable" not in row
    # Nobody had a counted CQC "safe" rating in Q4: not on the page at all.
    assert "OF1067" not in page and "CQC safe inspection" not in page

    # Each domain's count is of its counted metrics that apply: patient safety is OF0061 alone
    # (OF0016 does not apply, OF1067 has no data), finance counts OF1080 and OF0086 but not
    # the combined score's parts.
    domains = {
        text_of(row).split(" Score ")[0]: text_of(row)
        for row in page.split('id="domain-scores"')[1].split("</table>")[0].split("<tr")[2:]
    }
    counts = {name: re.search(r"(\d+) of (\d+)$", row).groups() for name, row in domains.items()}
    assert counts == {
        "Access to services": ("1", "2"),
        "Effectiveness and experience": ("1", "1"),
        "Patient safety": ("1", "1"),
        "People and workforce": ("2", "2"),
        "Finance and productivity": ("2", "2"),
    }
    ryy = TrustResult.objects.get(release=real_q4, trust__ods_code="RYY")
    assert sum(int(scored) for scored, _ in counts.values()) == ryy.metrics_scored == 7


def test_a_community_trust_that_reports_a_mental_health_metric_is_scored_on_it(client, real_q4):
    page = client.get("/trusts/R1A/").content.decode()
    for code in MENTAL_HEALTH_ONLY:
        row = metric_row(page, code)
        assert "Not applicable" not in row and "Not reported" not in row, code
        score = MetricResult.objects.get(release=real_q4, trust__ods_code="R1A", metric__code=code)
        assert f"{score.score:.2f}" in row


def test_a_mental_health_trust_missing_an_applicable_metric_shows_not_reported(client, real_q4):
    # A mental health trust without OF0016 in Q4 (it applies to them): "Not reported".
    reporting = set(
        MetricResult.objects.filter(release=real_q4, metric__code="OF0016").values_list(
            "trust_id", flat=True
        )
    )
    silent = (
        TrustResult.objects.filter(
            release=real_q4, trust_subtype="Mental Health and Learning Disability"
        )
        .exclude(trust_id__in=reporting)
        .select_related("trust")
        .order_by("trust__ods_code")
        .first()
    )
    assert silent is not None
    page = client.get(f"/trusts/{silent.trust.ods_code}/").content.decode()
    row = metric_row(page, "OF0016")
    assert "Not reported" in row and "Not applicable" not in row


def test_compare_shows_not_applicable_per_trust_and_no_row_for_unreported_metrics(client, real_q4):
    page = client.get("/compare/?trusts=RYY,R1A").content.decode()
    rows = [row for row in page.split("<tr") if "(OF0016, score)" in row]
    assert len(rows) == 1
    cells = [text_of(cell) for cell in rows[0].split("<td")[1:]]
    assert cells[0].startswith("Not applicable") and CRISIS_EXPLANATION in cells[0]
    r1a = MetricResult.objects.get(release=real_q4, trust__ods_code="R1A", metric__code="OF0016")
    assert cells[1].startswith(f"{r1a.score:.2f}")
    assert "OF1067" not in page
    rows = [row for row in page.split("<tr") if "(OF0041, score)" in row]
    assert text_of(rows[0].split("<td")[1]).startswith("Not reported")


def test_the_api_and_downloads_leave_out_unreported_metrics_and_name_the_not_applicable(
    client, real_q4
):
    release = client.get(f"/api/v1/releases/{real_q4.pk}/").json()
    assert "OF1067" not in release["metrics"]
    assert {"OF0016", "OF0041", "OF1080"} <= set(release["metrics"])
    listed = client.get("/api/v1/releases/").json()["results"]
    assert [r["metrics"] for r in listed if r["id"] == real_q4.pk] == [release["metrics"]]

    framework = client.get(f"/api/v1/frameworks/{real_q4.framework_id}/").json()
    definitions = {
        d["metric"]["code"]: d for domain in framework["domains"] for d in domain["definitions"]
    }
    assert definitions["OF0016"]["applies_to_subtypes"] == [
        "Mental Health and Learning Disability",
        "Care Trust",
    ]
    assert definitions["OF0041"]["applies_to_subtypes"] == []

    base = real_q4.get_absolute_url()
    data = json.loads(client.get(f"{base}league-table.json").content)
    assert "OF1067" not in data["metadata"]["units"]
    assert not [row for row in data["metric_data"] if row["Metric_ID"] == "OF1067"]
    crisis = data["metadata"]["not_applicable"]["OF0016"]
    assert crisis["note"] == "a mental health crisis service"
    community = set(
        TrustResult.objects.filter(release=real_q4, trust_subtype="Community").values_list(
            "trust__ods_code", flat=True
        )
    )
    assert "RYY" in crisis["trusts"] and "R1A" not in crisis["trusts"]
    assert set(crisis["trusts"]) == community - {"R1A"}
    assert set(data["metadata"]["not_applicable"]) == set(MENTAL_HEALTH_ONLY)


def test_the_trust_area_shows_not_applicable_beside_not_reported(client, real_q4):
    ryy = TrustResult.objects.select_related("trust").get(release=real_q4, trust__ods_code="RYY")
    client.force_login(user_with_role("board-ryy", roles.BOARD_MEMBER, trust=ryy.trust))
    page = client.get(reverse("trust_area:release", args=["RYY", real_q4.pk])).content.decode()
    table = page.split('id="metric-values"')[1].split("</table>")[0]
    rows = {
        code: text_of(row)
        for row in table.split("<tr")[2:]
        for code in re.findall(r"\((OF\d+)\)", row)
    }
    for code in MENTAL_HEALTH_ONLY:
        assert "Not applicable" in rows[code] and "Not reported" not in rows[code], code
    assert "Not reported" in rows["OF0041"]
    assert "OF1067" not in rows
    counted = MetricDefinition.objects.filter(framework=real_q4.framework, counted=True)
    assert len(rows) == MetricDefinition.objects.filter(framework=real_q4.framework).count() - 1
    assert counted.count() == 12

    api = client.get(f"/trust-area/api/trusts/RYY/releases/{real_q4.pk}/").json()
    assert api["not_reported"] == ["OF0041"]
    assert [item["metric"] for item in api["not_applicable"]] == ["OF1035", "OF0063", "OF0016"]
    assert api["not_applicable"][2]["why"] == CRISIS_EXPLANATION
