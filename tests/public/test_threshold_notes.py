"""A score shown rounded that looks equal to a threshold, yet is in the segment above it (the
segment is set by the unrounded score), says so wherever it is shown."""

from decimal import Decimal

import pytest

from public.figures import threshold_note
from releases.models import Release, TrustResult
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db

NOTE = "2.40 is rounded: the unrounded score 2.4012 is above the threshold 2.4"


@pytest.fixture
def on_the_line(draft: Release) -> tuple[Release, TrustResult]:
    Release.objects.filter(pk=draft.pk).update(
        t1=Decimal("2.0"),
        t2=Decimal("2.4"),
        t3=Decimal("2.8"),
        domain_thresholds={
            "patient-safety": {"method": "fixed", "t1": "2.0", "t2": "2.4", "t3": "2.8"}
        },
    )
    row = TrustResult.objects.filter(release=draft).select_related("trust").first()
    domain_scores = {**row.domain_scores, "patient-safety": 2.4012}
    domain_segments = {**row.domain_segments, "patient-safety": 3}
    TrustResult.objects.filter(pk=row.pk).update(
        average_exact=2.4012,
        average_score=Decimal("2.40"),
        segment=3,
        unadjusted_segment=3,
        in_financial_deficit=False,
        in_recovery_support=False,
        domain_scores=domain_scores,
        domain_segments=domain_segments,
    )
    draft.refresh_from_db()
    return publish(draft), row


def test_every_page_showing_the_average_says_it_is_above_the_threshold(client, on_the_line):
    release, row = on_the_line
    for url in (
        "/",
        release.get_absolute_url(),
        row.trust.get_absolute_url(),
        f"/compare/?trusts={row.trust.ods_code}",
    ):
        assert NOTE in client.get(url).content.decode(), url
    assert "segments are set by the <strong>unrounded</strong> score" in (
        client.get(release.get_absolute_url()).content.decode()
    )
    assert "unrounded" in client.get("/methodology/").content.decode()


def test_a_domain_score_on_a_domain_threshold_says_so(client, on_the_line):
    release, row = on_the_line
    domains = client.get(release.get_absolute_url() + "domains/").content.decode()
    assert NOTE in domains
    assert NOTE in client.get(row.trust.get_absolute_url()).content.decode()


def test_no_note_where_the_rounded_score_points_to_its_own_segment():
    thresholds = (Decimal("2.0"), Decimal("2.4"), Decimal("2.8"))
    assert threshold_note(2.4, thresholds) == ""
    assert threshold_note(2.41, thresholds) == ""
    assert threshold_note(2.3949, thresholds) == ""
    assert threshold_note(None, thresholds) == ""
    # Rounded up onto the far side of a threshold: 2.3996 shows 2.40, above 2.3997.
    assert "at or below the threshold 2.3997" in threshold_note(
        2.3996, (Decimal("2.0"), Decimal("2.3997"), Decimal("2.8"))
    )
