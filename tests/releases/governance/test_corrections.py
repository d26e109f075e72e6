"""A correction is a new revision that goes through the same approval and, once published,
supersedes the old one with a public note; both stay readable."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from metrics.models import Observation
from releases.models import Release, ReleaseTransition
from releases.services import lifecycle
from releases.services.computation import compute

Status = Release.Status


@pytest.fixture
def published(release: Release, move: Callable) -> Release:
    return move(release, Status.PUBLISHED)


def worsen_a_trust(release: Release) -> str:
    """Give the top trust the worst supplied scores, so its segment and rank must change."""
    top = release.trust_results.order_by("rank").first().trust
    Observation.objects.filter(
        quarter=release.quarter, trust=top, supplied_score__isnull=False
    ).update(supplied_score=Decimal(4))
    return top.ods_code


def test_it_starts_a_correction_as_a_new_draft_revision_with_the_same_parameters(
    published: Release, maker: Any
) -> None:
    correction = lifecycle.start_correction(published, maker, "OF0084 was misreported by T001")
    assert correction.status == Status.DRAFT
    assert correction.revision == published.revision + 1
    assert correction.supersedes == published
    same = ["framework_id", "threshold_method", "t1", "t2", "t3", "seed", "replicates"]
    same += ["use_supplied_scores", "quarter_id", "peer_group_id"]
    assert {f: getattr(correction, f) for f in same} == {f: getattr(published, f) for f in same}
    assert correction.correction_note == "OF0084 was misreported by T001"
    assert correction.prepared_by == maker
    assert correction.computation == Release.Computation.NOT_COMPUTED


def test_it_refuses_a_second_correction_while_one_exists(published: Release, maker: Any) -> None:
    lifecycle.start_correction(published, maker, "First")
    with pytest.raises(lifecycle.TransitionRefused, match=r"Revision 2 .* already exists"):
        lifecycle.start_correction(published, maker, "Second")


def test_it_refuses_to_correct_a_release_that_is_not_published(
    release: Release, maker: Any
) -> None:
    with pytest.raises(lifecycle.TransitionRefused, match="is draft"):
        lifecycle.start_correction(release, maker, "Too early")


def test_it_publishes_a_correction_as_a_new_revision_with_its_note(
    published: Release,
    maker: Any,
    checker: Any,
    approver: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old_rows = list(published.trust_results.values_list("trust_id", "segment", "rank"))
    correction = lifecycle.start_correction(published, maker, "T-trust scores were misreported.")
    changed = worsen_a_trust(published)  # allowed now that a correction is open
    compute(correction.pk)
    correction.refresh_from_db()

    lifecycle.submit(correction, maker)
    assert correction.correction_note.startswith("T-trust scores were misreported.")
    assert "What changed since revision 1:" in correction.correction_note
    [line] = [line for line in correction.correction_note.splitlines() if f"({changed}): " in line]
    assert line.startswith("- ") and "; segment " in line
    with pytest.raises(lifecycle.TransitionRefused, match="maker-checker"):
        lifecycle.approve(correction, maker)
    lifecycle.approve(correction, checker)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(correction, approver)

    published.refresh_from_db()
    correction.refresh_from_db()
    assert (published.status, correction.status) == (Status.SUPERSEDED, Status.PUBLISHED)
    assert list(Release.objects.published()) == [correction]
    # Both revisions stay readable, the old one exactly as it was published.
    assert list(published.trust_results.values_list("trust_id", "segment", "rank")) == old_rows
    assert correction.trust_results.count() == len(old_rows)
    assert published.transitions.filter(
        action=ReleaseTransition.Action.SUPERSEDE, to_status=Status.SUPERSEDED
    ).exists()
    assert published.superseded_by == correction
    client = Client()
    client.force_login(maker, backend="django.contrib.auth.backends.ModelBackend")
    for revision in (published, correction):
        page = client.get(reverse("admin:releases_release_change", args=[revision.pk]))
        assert page.status_code == 200
        assert revision.get_status_display() in page.content.decode()


def test_it_regenerates_the_list_of_changes_when_a_correction_is_resubmitted(
    published: Release, maker: Any, checker: Any
) -> None:
    correction = lifecycle.start_correction(published, maker, "Scores misreported.")
    compute(correction.pk)
    correction.refresh_from_db()
    lifecycle.submit(correction, maker)
    assert "No value, score, segment or rank changed." in correction.correction_note
    lifecycle.return_for_changes(correction, checker, "Nothing changed: fix the data")
    worsen_a_trust(published)
    compute(correction.pk)
    correction.refresh_from_db()
    lifecycle.submit(correction, maker)
    assert correction.correction_note.count("What changed since revision 1:") == 1
    assert "No value, score, segment or rank changed." not in correction.correction_note


def test_it_refuses_to_submit_a_correction_without_a_note(published: Release, maker: Any) -> None:
    correction = lifecycle.start_correction(published, maker, "Reason")
    compute(correction.pk)
    Release.objects.filter(pk=correction.pk).update(correction_note="")
    correction.refresh_from_db()
    with pytest.raises(lifecycle.TransitionRefused, match="correction note"):
        lifecycle.submit(correction, maker)


def test_it_keeps_a_withdrawn_release_withdrawn_when_its_correction_is_published(
    published: Release, maker: Any, checker: Any, approver: Any
) -> None:
    lifecycle.withdraw(published, approver, "Wrong file loaded")
    correction = lifecycle.start_correction(published, maker, "Right file loaded")
    compute(correction.pk)
    correction.refresh_from_db()
    lifecycle.submit(correction, maker)
    lifecycle.approve(correction, checker)
    lifecycle.publish_now(correction, approver)
    published.refresh_from_db()
    assert published.status == Status.WITHDRAWN
    assert list(Release.objects.published()) == [correction]
