"""Maker-checker holds for whoever made the numbers, not only whoever submitted them: an
approver who returned a release and changed its parameters (or had it recomputed) may not
approve it once an analyst resubmits it. The change is in the release's audit trail, with who
and when, "Prepared by" names them, and the refused approval is recorded like any other."""

from typing import Any

from django.urls import reverse

from releases.models import RefusedTransition, Release, ReleaseTransition
from releases.services import lifecycle
from tests.releases.governance.test_admin import change_form_data, signed_in

Status = Release.Status
Action = ReleaseTransition.Action


def edit_thresholds(client: Any, release: Release, capture: Any) -> Any:
    url = reverse("admin:releases_release_change", args=[release.pk])
    data = change_form_data(client.get(url))
    data.update(
        threshold_method="fixed",
        t1="1.5",
        t2="2.5",
        t3="3.5",
        change_reason="Fixed thresholds as agreed",
    )
    with capture(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    release.refresh_from_db()
    return response


def test_an_approver_who_changed_the_parameters_may_not_approve(
    release: Release,
    maker: Any,
    checker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    lifecycle.submit(release, maker)
    lifecycle.return_for_changes(release, checker, "Use fixed thresholds")
    edit_thresholds(signed_in(checker), release, django_capture_on_commit_callbacks)
    assert release.prepared_by == checker
    assert release.computation == Release.Computation.COMPUTED
    lifecycle.submit(release, maker)

    response = signed_in(checker).post(
        reverse("admin:releases_release_transition", args=[release.pk, "approve"]),
        {"reason": ""},
    )

    assert response.status_code == 409
    assert "You prepared this release" in response.content.decode()
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED
    refused = RefusedTransition.objects.get(release=release, action=Action.APPROVE)
    assert refused.user == checker and "maker-checker" in refused.why


def test_the_approve_button_is_not_offered_to_a_maker(
    release: Release, maker: Any, checker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lifecycle.submit(release, maker)
    lifecycle.return_for_changes(release, checker, "Use fixed thresholds")
    edit_thresholds(signed_in(checker), release, django_capture_on_commit_callbacks)
    lifecycle.submit(release, maker)
    assert "maker-checker" in lifecycle.why_not(Action.APPROVE, release, checker)


def test_the_parameter_change_is_in_the_audit_trail_with_who_and_what(
    release: Release, maker: Any, checker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lifecycle.submit(release, maker)
    lifecycle.return_for_changes(release, checker, "Use fixed thresholds")
    edit_thresholds(signed_in(checker), release, django_capture_on_commit_callbacks)

    entry = release.transitions.get(action=Action.PREPARE)
    assert entry.user == checker and entry.at is not None
    assert "T3" in entry.reason and "→ 3.5" in entry.reason
    page = signed_in(maker).get(reverse("admin:releases_release_change", args=[release.pk]))
    assert "Parameters changed" in page.content.decode()


def test_another_approver_may_approve_what_a_colleague_prepared(
    release: Release,
    maker: Any,
    checker: Any,
    approver: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    lifecycle.submit(release, maker)
    lifecycle.return_for_changes(release, checker, "Use fixed thresholds")
    edit_thresholds(signed_in(checker), release, django_capture_on_commit_callbacks)
    lifecycle.submit(release, maker)

    lifecycle.approve(release, approver)

    assert release.status == Status.APPROVED


def test_a_recompute_asked_for_makes_a_maker(
    release: Release, maker: Any, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(analyst).post(reverse("admin:releases_release_recompute", args=[release.pk]))
    release.refresh_from_db()
    entry = release.transitions.get(action=Action.RECOMPUTE)
    assert entry.user == analyst
    assert release.prepared_by == analyst
    assert analyst.pk in lifecycle.makers(release)


def test_a_preparation_before_the_last_approval_no_longer_counts(
    release: Release,
    maker: Any,
    checker: Any,
    approver: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    edit_thresholds(signed_in(checker), release, django_capture_on_commit_callbacks)
    lifecycle.submit(release, maker)
    lifecycle.approve(release, approver)
    lifecycle.return_for_changes(release, approver, "One more look")
    # Someone else prepares it this time.
    edit_thresholds_again = signed_in(maker)
    url = reverse("admin:releases_release_change", args=[release.pk])
    data = change_form_data(edit_thresholds_again.get(url))
    data.update(t3="3.6", change_reason="Adjusted")
    with django_capture_on_commit_callbacks(execute=True):
        assert edit_thresholds_again.post(url, data).status_code == 302
    release.refresh_from_db()
    lifecycle.submit(release, maker)

    assert checker.pk not in lifecycle.makers(release)
    lifecycle.approve(release, checker)
    assert release.status == Status.APPROVED
