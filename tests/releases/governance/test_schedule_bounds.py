"""A publication is scheduled within a year: a mistyped year (31 Dec 9999) is refused with the
latest time allowed, on the admin's form as through the service."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from releases.models import RefusedTransition, Release
from releases.services import lifecycle
from tests.releases.governance.test_admin import signed_in

Status = Release.Status


def test_it_refuses_a_publication_time_more_than_a_year_away(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.APPROVED)
    far = timezone.make_aware(datetime(9999, 12, 31, 9, 0))
    try:
        lifecycle.schedule(release, approver, far)
    except lifecycle.TransitionRefused as refusal:
        assert "more than a year away" in refusal.message
        assert "31 Dec 9999" in refusal.message
    else:
        raise AssertionError("scheduled for 9999")
    release.refresh_from_db()
    assert (release.status, release.scheduled_for) == (Status.APPROVED, None)


def test_it_schedules_a_time_within_the_year(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.APPROVED)
    at = timezone.now() + timedelta(days=300)
    lifecycle.schedule(release, approver, at)
    assert release.status == Status.SCHEDULED


def test_the_admin_form_shows_the_refusal_and_keeps_it(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.APPROVED)
    response = signed_in(approver).post(
        reverse("admin:releases_release_transition", args=[release.pk, "schedule"]),
        {"at": "9999-12-31T09:00"},
    )
    assert response.status_code == 409
    assert "more than a year away" in response.content.decode()
    assert RefusedTransition.objects.filter(release=release, action="schedule").exists()
