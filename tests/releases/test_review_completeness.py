"""The approver's completeness figures count only the metrics that apply to each trust.

NHS England's real Q4 2025/26 MH&C data: the framework counts 12 metrics. No trust had a
counted CQC "safe" rating (OF1067) that quarter, and crisis care, inpatient stays and the
community mental health survey (OF0016, OF0063, OF1035) do not measure community trusts. So
Kent Community Health (RYY), which reported 7 counted metrics, has 7 of the 8 that apply to it,
not "7 of 12, 58% complete"; the one it lacks (OF0041) applies, and is missing.
"""

import pytest
from django.test import Client
from django.urls import reverse

from leaguetable import roles
from releases.models import Release
from releases.review import review_release
from releases.services import computation
from releases.services.drafts import draft_release, parse_quarter
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def real_q4_draft(real_nof: None) -> Release:
    release = draft_release(parse_quarter("Q4 2025/26"), "mental-health-community")
    release.replicates = 50
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return release


def test_completeness_counts_only_the_metrics_that_apply(real_q4_draft: Release) -> None:
    review = review_release(real_q4_draft)
    by_code = {c.trust.ods_code: c for c in review.completeness}
    assert len(by_code) == 61

    ryy = by_code["RYY"]
    assert (ryy.scored, ryy.expected, ryy.percent) == (7, 8, 88)
    assert ryy.missing == ["OF0041"]
    assert ryy.not_applicable == ["OF0016", "OF0063", "OF1035"]

    # A community trust that reports the mental health metrics is expected to, and has them.
    r1a = by_code["R1A"]
    assert (r1a.scored, r1a.expected, r1a.missing, r1a.not_applicable) == (11, 11, [], [])

    # Every trust: OF1067 is neither expected nor missing; mental health trusts are measured
    # on all 11 metrics with data, community trusts on those 8 plus any they reported.
    for item in review.completeness:
        assert "OF1067" not in item.missing + item.not_applicable
        assert item.expected + len(item.not_applicable) == 11
        assert item.scored == item.expected - len(item.missing)
    mental_health = [
        c
        for c in review.completeness
        if c.trust.subtype in ("Mental Health and Learning Disability", "Care Trust")
    ]
    assert mental_health and all(not c.not_applicable for c in mental_health)
    assert [m.code for m in review.metrics_without_data] == ["OF1067"]


def test_the_review_screen_shows_the_applicable_figures(real_q4_draft: Release) -> None:
    approver = user_with_role("approver", roles.APPROVER)
    client = Client()
    client.force_login(approver, backend=MODEL_BACKEND)
    page = client.get(reverse("admin:releases_release_review", args=[real_q4_draft.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    section = text.split('id="review-completeness"')[1]
    row = next(r for r in section.split("<tr") if "(RYY)" in r)
    cells = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
    assert cells[1:] == ["7 of 8", "88%", "OF0041", "OF0016, OF0063, OF1035"]
    assert "OF1067 CQC safe inspection" in section.split("</p>")[0]
    assert "of 12" not in section
