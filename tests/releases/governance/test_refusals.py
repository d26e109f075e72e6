"""Role-aware transitions: only what a user may do is offered, and every refused attempt,
whatever path it came by, is in the audit trail with who, when and why."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from releases.models import RefusedTransition, Release
from releases.services import lifecycle

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def offered(client: Client, release: Release) -> list[str]:
    page = client.get(reverse("admin:releases_release_change", args=[release.pk]))
    return [t.action for t in page.context["transitions"]]


def test_an_analyst_is_never_offered_approval_even_of_anothers_submission(
    release: Release, maker: Any, analyst: Any
) -> None:
    lifecycle.submit(release, maker)
    client = signed_in(analyst)

    assert "approve" not in offered(client, release)
    page = client.get(reverse("admin:releases_release_transition", args=[release.pk, "approve"]))

    assert page.status_code == 403
    body = page.content.decode()
    assert "that needs the regulator approver role" in body
    assert 'value="Approve"' not in body and 'name="reason"' not in body  # no form to press


def test_a_submitter_is_not_offered_approval_of_their_own_submission(
    release: Release, superuser: Any
) -> None:
    lifecycle.submit(release, superuser)  # a superuser holds every permission, approve included
    client = signed_in(superuser)

    assert "approve" not in offered(client, release)
    review = client.get(reverse("admin:releases_release_review", args=[release.pk]))
    assert reverse("admin:releases_release_transition", args=[release.pk, "approve"]) not in (
        review.content.decode()
    )
    page = client.get(reverse("admin:releases_release_transition", args=[release.pk, "approve"]))
    assert page.status_code == 403
    assert "someone else must approve it (maker-checker)" in page.content.decode()


def test_a_refused_post_on_the_release_page_is_recorded(
    release: Release, maker: Any, analyst: Any
) -> None:
    lifecycle.submit(release, maker)

    response = signed_in(analyst).post(
        reverse("admin:releases_release_transition", args=[release.pk, "approve"]), {}
    )

    assert response.status_code == 409
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED
    refusal = RefusedTransition.objects.get()
    assert (refusal.release, refusal.action, refusal.user, refusal.status) == (
        release,
        "approve",
        analyst,
        Status.SUBMITTED,
    )
    assert "regulator approver role" in refusal.why
    assert refusal.via == "admin release page"
    assert refusal.at is not None
    # It is on the release's own page, beside the audit trail.
    page = signed_in(maker).get(reverse("admin:releases_release_change", args=[release.pk]))
    assert "refused attempt" in page.content.decode().lower()
    assert refusal.why in page.content.decode()


def test_a_refused_list_action_is_recorded_for_each_release(
    release: Release, approver: Any, maker: Any
) -> None:
    # The approver may approve, but this release is still a draft.
    response = signed_in(approver).post(
        reverse("admin:releases_release_changelist"),
        {"action": "approve", "_selected_action": [release.pk], "post": "yes", "reason": "ok"},
    )

    assert response.status_code == 302
    refusal = RefusedTransition.objects.get()
    assert (refusal.user, refusal.action, refusal.via) == (approver, "approve", "admin list action")
    assert "is draft" in refusal.why


def test_a_refused_command_is_recorded(release: Release, analyst: Any) -> None:
    with pytest.raises(CommandError, match="refused"):
        call_command(
            "release",
            "publish",
            "--quarter",
            release.quarter.label,
            "--peer-group",
            release.peer_group.slug,
            "--user",
            analyst.username,
            stdout=StringIO(),
        )

    refusal = RefusedTransition.objects.get()
    assert (refusal.user, refusal.action, refusal.via) == (analyst, "publish", "release command")


def test_a_permitted_transition_records_no_refusal(
    release: Release, maker: Any, checker: Any
) -> None:
    lifecycle.submit(release, maker)
    response = signed_in(checker).post(
        reverse("admin:releases_release_transition", args=[release.pk, "approve"]), {}
    )

    assert response.status_code == 302
    assert not RefusedTransition.objects.exists()


def test_a_refusal_record_is_never_rewritten(release: Release, analyst: Any) -> None:
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.perform("publish", release, analyst, via="test")
    refusal = RefusedTransition.objects.get()
    refusal.why = "Nothing happened"
    with pytest.raises(Exception, match="never changed"):
        refusal.save()
