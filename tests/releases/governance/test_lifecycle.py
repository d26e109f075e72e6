"""The rules of the release lifecycle, through the service functions."""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from leaguetable.roles import ANALYST, APPROVER, BOARD_MEMBER
from metrics.models import Observation
from releases.models import PublishedDataIsFixed, Release, ReleaseTransition
from releases.services import lifecycle
from releases.services.computation import compute
from releases.services.drafts import draft_release
from releases.signals import release_published, release_withdrawn
from tests.factories import make_trusts, user_with_role
from tests.releases.governance.conftest import later

Status = Release.Status
Action = ReleaseTransition.Action


def change_an_input(release: Release) -> Observation:
    observation = Observation.objects.filter(
        quarter=release.quarter, trust__results__release=release, supplied_score__isnull=False
    ).first()
    observation.supplied_score = Decimal("3.99") if observation.supplied_score < 3 else Decimal(1)
    observation.save()
    return observation


@pytest.mark.parametrize("also_approver", [False, True])
def test_it_refuses_the_maker_approving_their_own_release(
    release: Release, maker: Any, also_approver: bool
) -> None:
    lifecycle.submit(release, maker)
    if also_approver:
        # Holding both roles does not let anyone check their own work.
        maker.groups.add(Group.objects.get(name=APPROVER))
        maker = get_user_model().objects.get(pk=maker.pk)
    with pytest.raises(lifecycle.TransitionRefused) as refusal:
        lifecycle.approve(release, maker)
    assert refusal.value.message == (
        "You submitted this release, so someone else must approve it (maker-checker)."
    )
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED


def test_it_refuses_a_superuser_approving_what_they_submitted(
    release: Release, superuser: Any
) -> None:
    lifecycle.submit(release, superuser)
    with pytest.raises(lifecycle.TransitionRefused, match="maker-checker"):
        lifecycle.approve(release, superuser)


def test_it_refuses_to_submit_a_release_that_was_never_computed(release: Release) -> None:
    maker = user_with_role("maker2", ANALYST)
    uncomputed = draft_release(release.quarter, "mental-health-community")
    Release.objects.filter(pk=uncomputed.pk).update(
        computation=Release.Computation.NOT_COMPUTED, input_checksum=""
    )
    uncomputed.refresh_from_db()
    with pytest.raises(lifecycle.TransitionRefused, match="has not been computed"):
        lifecycle.submit(uncomputed, maker)


@pytest.mark.parametrize(
    ("computation", "message"),
    [
        (Release.Computation.RUNNING, "is being computed"),
        (Release.Computation.QUEUED, "is being computed"),
        (Release.Computation.FAILED, "last computation .* failed"),
    ],
)
def test_it_refuses_to_submit_a_release_that_is_computing_or_failed(
    release: Release, maker: Any, computation: str, message: str
) -> None:
    Release.objects.filter(pk=release.pk).update(computation=computation)
    with pytest.raises(lifecycle.TransitionRefused, match=message):
        lifecycle.submit(release, maker)


def test_it_refuses_to_submit_a_draft_whose_inputs_changed(release: Release, maker: Any) -> None:
    change_an_input(release)
    with pytest.raises(
        lifecycle.TransitionRefused, match=r"changed since it was computed.*recompute"
    ):
        lifecycle.submit(release, maker)


def test_it_refuses_to_approve_while_the_inputs_changed_since_computation(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.SUBMITTED)
    change_an_input(release)  # allowed: a submitted release has not been signed off yet
    with pytest.raises(lifecycle.TransitionRefused) as refusal:
        lifecycle.approve(release, approver)
    assert "changed since it was computed" in refusal.value.message
    assert "return it for changes" in refusal.value.message
    lifecycle.return_for_changes(release, approver, "Inputs changed: recompute")
    compute(release.pk)
    release.refresh_from_db()
    lifecycle.submit(release, user_with_role("maker2", ANALYST))
    lifecycle.approve(release, approver)
    assert release.status == Status.APPROVED


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (Status.SUBMITTED, lambda r, u: lifecycle.return_for_changes(r, u, "  ")),
        (Status.PUBLISHED, lambda r, u: lifecycle.withdraw(r, u, "")),
        (Status.PUBLISHED, lambda r, u: lifecycle.start_correction(r, u, "")),
    ],
)
def test_it_needs_a_written_reason_to_return_withdraw_or_correct(
    release: Release, move: Callable, superuser: Any, status: str, call: Callable
) -> None:
    move(release, status)
    with pytest.raises(lifecycle.TransitionRefused, match="needs a written reason"):
        call(release, superuser)
    release.refresh_from_db()
    assert release.status == status


def test_it_refuses_to_schedule_publication_in_the_past(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.APPROVED)
    with pytest.raises(lifecycle.TransitionRefused, match="already passed"):
        lifecycle.schedule(release, approver, timezone.now() - timedelta(minutes=1))


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DRAFT, lambda r, u: lifecycle.publish_now(r, u)),
        (Status.DRAFT, lambda r, u: lifecycle.approve(r, u)),
        (Status.APPROVED, lambda r, u: lifecycle.approve(r, u)),
        (Status.SUBMITTED, lambda r, u: lifecycle.schedule(r, u, later())),
        (Status.PUBLISHED, lambda r, u: lifecycle.publish_now(r, u)),
        (Status.PUBLISHED, lambda r, u: lifecycle.return_for_changes(r, u, "No")),
        (Status.WITHDRAWN, lambda r, u: lifecycle.withdraw(r, u, "Again")),
        (Status.SUBMITTED, lambda r, u: lifecycle.submit(r, u)),
    ],
)
def test_it_refuses_a_transition_from_the_wrong_state(
    release: Release, move: Callable, superuser: Any, status: str, action: Callable
) -> None:
    move(release, status)
    with pytest.raises(
        lifecycle.TransitionRefused, match=re.escape(f"is {Status(status).label.lower()}")
    ):
        action(release, superuser)
    release.refresh_from_db()
    assert release.status == status


def test_it_returns_a_scheduled_release_to_draft(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.SCHEDULED)
    lifecycle.return_for_changes(release, approver, "Wrong thresholds")
    release.refresh_from_db()
    assert release.status == Status.DRAFT
    assert release.scheduled_for is None
    assert release.approved_by is None


def test_it_refuses_an_inactive_user(release: Release, maker: Any) -> None:
    maker.is_active = False
    maker.save()
    with pytest.raises(lifecycle.TransitionRefused, match="active user"):
        lifecycle.submit(release, maker)


def test_it_leaves_an_audit_row_for_every_transition(
    release: Release, maker: Any, checker: Any, approver: Any
) -> None:
    at = later(90)
    lifecycle.submit(release, maker, "First go", request_id="req-1")
    lifecycle.return_for_changes(release, checker, "Check OF0084")
    lifecycle.submit(release, maker)
    lifecycle.approve(release, checker, "Looks right")
    lifecycle.schedule(release, approver, at)
    lifecycle.publish_now(release, approver)
    correction = lifecycle.start_correction(release, maker, "OF0084 misreported")
    lifecycle.withdraw(release, approver, "Published in error")

    rows = list(
        release.transitions.values_list("action", "from_status", "to_status", "user__username")
    )
    assert rows == [
        (Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, "maker"),
        (Action.RETURN, Status.SUBMITTED, Status.DRAFT, "checker"),
        (Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, "maker"),
        (Action.APPROVE, Status.SUBMITTED, Status.APPROVED, "checker"),
        (Action.SCHEDULE, Status.APPROVED, Status.SCHEDULED, "approver"),
        (Action.PUBLISH, Status.SCHEDULED, Status.PUBLISHED, "approver"),
        (Action.START_CORRECTION, Status.PUBLISHED, Status.PUBLISHED, "maker"),
        (Action.WITHDRAW, Status.PUBLISHED, Status.WITHDRAWN, "approver"),
    ]
    first = release.transitions.first()
    assert (first.reason, first.request_id) == ("First go", "req-1")
    assert first.details["input_checksum"] == release.input_checksum
    assert release.transitions.get(action=Action.RETURN).reason == "Check OF0084"
    assert release.transitions.get(action=Action.SCHEDULE).details["scheduled_for"] == (
        at.isoformat()
    )
    assert correction.transitions.get().details["corrects"] == release.pk


def test_it_never_changes_or_deletes_an_audit_row(release: Release, maker: Any) -> None:
    lifecycle.submit(release, maker, "Once")
    entry = release.transitions.get()
    entry.reason = "Rewritten"
    with pytest.raises(PublishedDataIsFixed):
        entry.save()
    with pytest.raises(PublishedDataIsFixed):
        entry.delete()


def test_it_records_each_transition_in_the_release_history(
    release: Release, maker: Any, checker: Any
) -> None:
    lifecycle.submit(release, maker)
    lifecycle.return_for_changes(release, checker, "Check OF0084")
    latest, submitted = release.history.all()[:2]
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        Status.DRAFT,
        checker,
        "Returned for changes: Check OF0084",
    )
    assert (submitted.status, submitted.history_user) == (Status.SUBMITTED, maker)


def test_it_tells_every_approver_but_the_submitter_once_after_commit(
    release: Release,
    maker: Any,
    checker: Any,
    approver: Any,
    superuser: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user_with_role("board", BOARD_MEMBER)
    user_with_role("another-analyst", ANALYST)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.submit(release, maker)
    assert mail.outbox == []  # nothing is said before the transaction commits
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "approver@example.org",
        "checker@example.org",
        "root@example.org",  # a superuser in the approver role
    ]
    assert all(str(release) in m.subject for m in mail.outbox)


def test_it_tells_the_submitter_when_returned_and_when_published(
    release: Release, maker: Any, checker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lifecycle.submit(release, maker)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.return_for_changes(release, checker, "Check OF0084 please")
    assert [m.to for m in mail.outbox] == [["maker@example.org"]]
    assert "Check OF0084 please" in mail.outbox[0].body
    mail.outbox.clear()
    lifecycle.submit(release, maker)
    lifecycle.approve(release, checker)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(release, checker)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["maker@example.org"], f"Published: {release}")
    ]


def test_it_tells_board_members_of_every_trust_in_the_release_when_scheduled(
    release: Release, move: Callable, approver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    trusts = [r.trust for r in release.trust_results.order_by("trust__ods_code")[:2]]
    user_with_role("board-a", BOARD_MEMBER, trust=trusts[0])
    both = user_with_role("board-b", BOARD_MEMBER, trust=trusts[1])
    both.board_memberships.create(trust=trusts[0])
    outsider = make_trusts(1, peer_group="acute", prefix="A")[0]
    user_with_role("board-elsewhere", BOARD_MEMBER, trust=outsider)
    move(release, Status.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.schedule(release, approver, later())
    assert sorted(m.to[0] for m in mail.outbox) == ["board-a@example.org", "board-b@example.org"]
    assert all("Embargoed preview ready" in m.subject for m in mail.outbox)


def test_it_sends_the_publication_signal_once_after_commit(
    release: Release, move: Callable, approver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[tuple[str, Release]] = []

    def on_published(sender: Any, release: Release, **kwargs: Any) -> None:
        received.append(("published", release))

    def on_withdrawn(sender: Any, release: Release, **kwargs: Any) -> None:
        received.append(("withdrawn", release))

    release_published.connect(on_published)
    release_withdrawn.connect(on_withdrawn)
    try:
        move(release, Status.APPROVED)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            lifecycle.publish_now(release, approver)
        assert received == []
        for callback in callbacks:
            callback()
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.withdraw(release, approver, "Published in error")
    finally:
        release_published.disconnect(on_published)
        release_withdrawn.disconnect(on_withdrawn)
    assert [(kind, r.pk, r.status) for kind, r in received] == [
        ("published", release.pk, Status.PUBLISHED),
        ("withdrawn", release.pk, Status.WITHDRAWN),
    ]


def test_it_keeps_a_failing_receiver_from_undoing_a_publication(
    release: Release, move: Callable, approver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("cache unavailable")

    release_published.connect(broken)
    try:
        move(release, Status.APPROVED)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.publish_now(release, approver)
    finally:
        release_published.disconnect(broken)
    release.refresh_from_db()
    assert release.status == Status.PUBLISHED


def test_it_shows_nothing_to_the_public_before_publication(
    release: Release, move: Callable, approver: Any
) -> None:
    for status in (Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED):
        if status == Status.SCHEDULED:
            lifecycle.schedule(release, approver, later())
        else:
            move(release, status) if status == Status.SUBMITTED else lifecycle.approve(
                release, approver
            )
        assert not Release.objects.published().exists()
    lifecycle.publish_now(release, approver)
    assert list(Release.objects.published()) == [release]
