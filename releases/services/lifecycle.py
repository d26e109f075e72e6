"""The life of a release, one function per transition.

    draft ─submit→ submitted ─approve→ approved ─schedule→ scheduled ─(time passed)→ published
                                          └──────publish_now─────────────────→ published
    submitted, approved or scheduled ─return_for_changes→ draft
    published ─withdraw→ withdrawn
    published or withdrawn ─start_correction→ revision n+1 (draft) ─…→ published;
        on its publication revision n becomes superseded (a withdrawn one stays withdrawn)

Every function here follows the same shape, so the admin, the `release` command, the beat and the
tests all go through the same checks: lock the release row, check its state and the user's right,
save with `update_fields`, write the `ReleaseTransition` audit row in the same transaction, and
leave emails and the publication signals to `transaction.on_commit`, so nobody is told about a
change that was rolled back. A refusal raises `TransitionRefused` with a message written for the
regulator who tried.

The inputs of a release an approver has signed off are fixed too: see `input_locks`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from releases import notifications
from releases.corrections import (
    CHANGES_HEADING,
    NOTHING_CHANGED,
    correction_changes,
    hand_written_note,
)
from releases.models import RefusedTransition, Release, ReleaseTransition
from releases.services import computation
from releases.signals import release_published, release_withdrawn

logger = logging.getLogger(__name__)

Status = Release.Status
Action = ReleaseTransition.Action


class TransitionRefused(Exception):
    """The transition cannot happen; the message says why, for the person who asked."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Transition:
    """What the admin and the command line need to know to offer a transition."""

    action: str
    label: str
    permission: str
    role: str
    from_statuses: tuple[str, ...]
    # What the permission lets one do, after "You do not have the right to ...".
    right: str
    needs_reason: bool = False
    needs_time: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.SUBMIT,
            "Submit for approval",
            "submit_release",
            "regulator analyst",
            (Status.DRAFT,),
            right="submit releases for approval",
        ),
        Transition(
            Action.APPROVE,
            "Approve",
            "approve_release",
            "regulator approver",
            (Status.SUBMITTED,),
            right="approve releases",
        ),
        Transition(
            Action.RETURN,
            "Return for changes",
            "approve_release",
            "regulator approver",
            (Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED),
            right="return releases for changes",
            needs_reason=True,
        ),
        Transition(
            Action.SCHEDULE,
            "Schedule publication",
            "publish_release",
            "regulator approver",
            (Status.APPROVED, Status.SCHEDULED),
            right="schedule the publication of releases",
            needs_time=True,
        ),
        Transition(
            Action.PUBLISH,
            "Publish now",
            "publish_release",
            "regulator approver",
            (Status.APPROVED, Status.SCHEDULED),
            right="publish releases",
        ),
        Transition(
            Action.WITHDRAW,
            "Withdraw",
            "withdraw_release",
            "regulator approver",
            (Status.PUBLISHED,),
            right="withdraw published releases",
            needs_reason=True,
        ),
        Transition(
            Action.START_CORRECTION,
            "Start a correction",
            "add_release",
            "regulator analyst",
            (Status.PUBLISHED, Status.WITHDRAWN),
            right="start corrections of published releases",
            needs_reason=True,
        ),
    )
}


# How far ahead a publication may be scheduled: a quarter's table is published within weeks.
LATEST_SCHEDULE = timedelta(days=366)


# Transitions ---------------------------------------------------------------------------------


def submit(
    release: Release, user: AbstractBaseUser, reason: str = "", *, request_id: str = ""
) -> Release:
    """Draft → submitted: the maker asks a second regulator to check the computed release."""
    with _locked(release) as locked:
        _check(locked, user, TRANSITIONS[Action.SUBMIT])
        _require_current_computation(locked, "submitted")
        if locked.is_correction:
            if not hand_written_note(locked.correction_note).strip():
                raise TransitionRefused(
                    "A correction needs a correction note saying what was wrong and why it "
                    "changed: write it on the release before submitting."
                )
            locked.correction_note = _with_changes(locked)
        locked.status = Status.SUBMITTED
        locked.submitted_by = user
        locked.submitted_at = timezone.now()
        locked.approved_by = None
        locked.approved_at = None
        _save(
            locked,
            Status.DRAFT,
            user,
            Action.SUBMIT,
            reason,
            request_id,
            ["status", "submitted_by", "submitted_at", "approved_by", "approved_at"]
            + (["correction_note"] if locked.is_correction else []),
        )
        release_id = locked.pk
        transaction.on_commit(lambda: notifications.release_submitted(release_id), robust=True)
    return _refresh(release, locked)


def approve(
    release: Release, user: AbstractBaseUser, reason: str = "", *, request_id: str = ""
) -> Release:
    """Submitted → approved: the checker signs off numbers computed from current inputs."""
    with _locked(release) as locked:
        # First, so a maker is told the rule that stops them rather than only what they lack.
        if locked.status == Status.SUBMITTED:
            maker = why_a_maker(locked, user)
            if maker is not None:
                raise TransitionRefused(maker)
        _check(locked, user, TRANSITIONS[Action.APPROVE])
        _require_current_computation(locked, "approved")
        locked.status = Status.APPROVED
        locked.approved_by = user
        locked.approved_at = timezone.now()
        _save(
            locked,
            Status.SUBMITTED,
            user,
            Action.APPROVE,
            reason,
            request_id,
            ["status", "approved_by", "approved_at"],
        )
    return _refresh(release, locked)


def return_for_changes(
    release: Release, user: AbstractBaseUser, reason: str, *, request_id: str = ""
) -> Release:
    """Submitted, approved or scheduled → draft, with the reason the maker needs to act on.

    `submitted_by` is kept: a draft that has a submitter was returned, which is how the maker's
    to-do list finds it.
    """
    with _locked(release) as locked:
        _check(locked, user, TRANSITIONS[Action.RETURN], reason=reason)
        previous = locked.status
        locked.status = Status.DRAFT
        locked.approved_by = None
        locked.approved_at = None
        locked.scheduled_for = None
        _save(
            locked,
            previous,
            user,
            Action.RETURN,
            reason,
            request_id,
            ["status", "approved_by", "approved_at", "scheduled_for"],
        )
        release_id = locked.pk
        transaction.on_commit(
            lambda: notifications.release_returned(release_id, reason), robust=True
        )
    return _refresh(release, locked)


def schedule(
    release: Release, user: AbstractBaseUser, at: datetime, *, request_id: str = ""
) -> Release:
    """Approved (or scheduled) → scheduled: published by the beat once `at` has passed.

    Board members of every trust in the release are told their preview is ready.
    """
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    with _locked(release) as locked:
        _check(locked, user, TRANSITIONS[Action.SCHEDULE])
        now = timezone.now()
        if at <= now:
            raise TransitionRefused(
                f"The publication time {timezone.localtime(at):%d %b %Y %H:%M} has already "
                "passed: choose a time in the future, or publish it now."
            )
        if at > now + LATEST_SCHEDULE:
            latest = timezone.localtime(now + LATEST_SCHEDULE)
            raise TransitionRefused(
                f"The publication time {timezone.localtime(at):%d %b %Y %H:%M} is more than a "
                f"year away: choose a time before {latest:%d %b %Y}. A quarter's table is "
                "published while it is current; a mistyped year would hide it for good."
            )
        previous = locked.status
        locked.status = Status.SCHEDULED
        locked.scheduled_for = at
        _save(
            locked,
            previous,
            user,
            Action.SCHEDULE,
            "",
            request_id,
            ["status", "scheduled_for"],
            details={"scheduled_for": at.isoformat()},
        )
        release_id = locked.pk
        transaction.on_commit(lambda: notifications.release_scheduled(release_id), robust=True)
    return _refresh(release, locked)


def publish_now(release: Release, user: AbstractBaseUser, *, request_id: str = "") -> Release:
    """Approved or scheduled → published at once."""
    with _locked(release) as locked:
        _check(locked, user, TRANSITIONS[Action.PUBLISH])
        _publish(locked, user, timezone.now(), "", request_id)
    return _refresh(release, locked)


def withdraw(
    release: Release, user: AbstractBaseUser, reason: str, *, request_id: str = ""
) -> Release:
    """Published → withdrawn: the public sees only the withdrawal notice and its reason."""
    with _locked(release) as locked:
        _check(locked, user, TRANSITIONS[Action.WITHDRAW], reason=reason)
        locked.status = Status.WITHDRAWN
        locked.withdrawal_reason = reason.strip()
        _save(
            locked,
            Status.PUBLISHED,
            user,
            Action.WITHDRAW,
            reason,
            request_id,
            ["status", "withdrawal_reason"],
        )
        _send_on_commit(release_withdrawn, locked.pk)
    return _refresh(release, locked)


def start_correction(
    release: Release, user: AbstractBaseUser, reason: str, *, request_id: str = ""
) -> Release:
    """A new draft revision of a published (or withdrawn) release, to be computed from
    corrected data and taken through the same approval.

    It is computed with the same framework version, thresholds, seed and replicates, so the
    only differences are the ones the corrected data make. While it is open, the inputs the
    published revision used may be corrected.
    """
    with _locked(release) as locked:
        _check(locked, user, TRANSITIONS[Action.START_CORRECTION], reason=reason)
        later = (
            Release.objects.filter(
                quarter_id=locked.quarter_id,
                peer_group_id=locked.peer_group_id,
                revision__gt=locked.revision,
            )
            .order_by("-revision")
            .first()
        )
        if later is not None:
            raise TransitionRefused(
                f"Revision {later.revision} of this release already exists "
                f"({later.get_status_display().lower()}): correct that one instead."
            )
        latest = Release.objects.filter(
            quarter_id=locked.quarter_id, peer_group_id=locked.peer_group_id
        ).aggregate(latest=Max("revision"))["latest"]
        correction = Release(
            quarter_id=locked.quarter_id,
            peer_group_id=locked.peer_group_id,
            framework_id=locked.framework_id,
            revision=latest + 1,
            supersedes=locked,
            threshold_method=locked.threshold_method,
            t1=locked.t1,
            t2=locked.t2,
            t3=locked.t3,
            domain_thresholds=locked.domain_thresholds,
            replicates=locked.replicates,
            seed=locked.seed,
            use_supplied_scores=locked.use_supplied_scores,
            correction_note=reason.strip(),
            prepared_by=user,
        )
        correction._history_user = user
        correction._change_reason = f"Correction of revision {locked.revision}"
        correction.save()
        _audit(
            correction,
            "",
            Status.DRAFT,
            user,
            Action.START_CORRECTION,
            reason,
            request_id,
            {"corrects": locked.pk, "corrects_revision": locked.revision},
        )
        _audit(
            locked,
            locked.status,
            locked.status,
            user,
            Action.START_CORRECTION,
            reason,
            request_id,
            {"correction": correction.pk, "correction_revision": correction.revision},
        )
    return correction


def publish_due(now: datetime | None = None) -> int:
    """Publish every scheduled release whose time has come; the beat calls this every minute.

    A release whose time passed while no worker ran is published by the next tick, as its
    `scheduled_for` stays in the past. Two ticks running together publish it once: each
    release is claimed under its row lock by a compare-and-set on its status, and a tick that
    finds it already claimed leaves it alone. Returns how many this tick published.
    """
    now = now or timezone.now()
    due = list(
        Release.objects.filter(status=Status.SCHEDULED, scheduled_for__lte=now)
        .order_by("scheduled_for", "pk")
        .values_list("pk", flat=True)
    )
    published = 0
    for release_id in due:
        try:
            published += _publish_scheduled(release_id, now)
        except Exception:
            # Left scheduled, so the next tick tries again: never skipped, and one broken
            # release does not hold back the others due at the same time.
            logger.exception("Scheduled publication of release %s failed", release_id)
    return published


def _publish_scheduled(release_id: int, now: datetime) -> int:
    with transaction.atomic():
        locked = Release.objects.select_for_update().filter(pk=release_id).first()
        if locked is None or locked.status != Status.SCHEDULED:
            return 0  # another tick published it, or a regulator returned it meanwhile
        if locked.scheduled_for is None or locked.scheduled_for > now:
            return 0  # rescheduled to later while this tick was listing
        try:
            _publish(locked, None, now, "Scheduled publication time reached", "")
        except TransitionRefused as refusal:
            logger.info("Release %s not published by this tick: %s", release_id, refusal)
            return 0
    return 1


# One dispatcher ------------------------------------------------------------------------------


def perform(
    action: str,
    release: Release,
    user: AbstractBaseUser | None,
    *,
    reason: str = "",
    at: datetime | None = None,
    request_id: str = "",
    via: str = "",
) -> Release:
    """Perform the transition `action` (a ReleaseTransition.Action) through its one service
    function; the admin, the `release` command and the review screen all come through here.
    Returns the release concerned (for a correction, the new revision).

    A refusal is recorded (`RefusedTransition`: who, when, what, why and `via` which path)
    before it is raised again for the caller to show.
    """
    try:
        return _dispatch(action, release, user, reason=reason, at=at, request_id=request_id)
    except TransitionRefused as refusal:
        record_refusal(action, release, user, refusal.message, via, request_id)
        raise


def record_refusal(
    action: str,
    release: Release,
    user: AbstractBaseUser | None,
    why: str,
    via: str,
    request_id: str,
) -> None:
    """Keep a refused attempt (`RefusedTransition`): the dispatcher's, and the admin's for a
    list action it never offered the user (their role lacks it), which never reaches it."""
    # The refused transition rolled back; this row is written after it, on its own.
    status = Release.objects.filter(pk=release.pk).values_list("status", flat=True).first()
    if status is None:
        return  # nothing to hang the record on: the release was deleted meanwhile
    RefusedTransition.objects.create(
        release_id=release.pk,
        action=str(action)[:20],
        status=status,
        user=user if user is not None and user.is_authenticated else None,
        why=why,
        via=via[:40],
        request_id=request_id[:64],
    )


def _dispatch(
    action: str,
    release: Release,
    user: AbstractBaseUser | None,
    *,
    reason: str,
    at: datetime | None,
    request_id: str,
) -> Release:
    match action:
        case Action.SUBMIT:
            return submit(release, user, reason, request_id=request_id)
        case Action.APPROVE:
            return approve(release, user, reason, request_id=request_id)
        case Action.RETURN:
            return return_for_changes(release, user, reason, request_id=request_id)
        case Action.SCHEDULE:
            if at is None:
                raise TransitionRefused("Scheduling needs the publication date and time.")
            return schedule(release, user, at, request_id=request_id)
        case Action.PUBLISH:
            return publish_now(release, user, request_id=request_id)
        case Action.WITHDRAW:
            return withdraw(release, user, reason, request_id=request_id)
        case Action.START_CORRECTION:
            return start_correction(release, user, reason, request_id=request_id)
    raise TransitionRefused(f"There is no transition called {action!r}.")


# Who made the numbers (maker-checker) --------------------------------------------------------

# What makes a regulator one of a release's makers: its numbers follow what they chose.
PREPARATIONS = (Action.PREPARE, Action.RECOMPUTE, Action.START_CORRECTION)


def record_preparation(
    release: Release,
    user: AbstractBaseUser,
    action: str,
    summary: str,
    *,
    details: dict[str, Any] | None = None,
    request_id: str = "",
) -> ReleaseTransition:
    """Record in the release's audit trail that `user` changed its parameters (PREPARE) or had
    it recomputed (RECOMPUTE), and make them the one it was prepared by.

    Whoever did either since the release was last approved is one of its makers and may not
    approve it (`why_a_maker`): otherwise an approver could return a release, set its
    thresholds and then sign off their own numbers once an analyst resubmitted it.
    """
    with transaction.atomic():
        if release.prepared_by_id != user.pk:
            release.prepared_by = user
            release._history_user = user
            release._change_reason = ReleaseTransition.Action(action).label
            release.save(update_fields=["prepared_by"])
        return _audit(
            release, release.status, release.status, user, action, summary, request_id, details
        )


def makers(release: Release) -> set[int]:
    """The ids of the regulators who made the release's numbers as they are since it was last
    approved: who submitted it, who prepared it, and whoever changed its parameters, had it
    recomputed or started it as a correction since."""
    trail = ReleaseTransition.objects.filter(release_id=release.pk)
    last_approval = trail.filter(action=Action.APPROVE).order_by("-pk").first()
    since = trail.filter(action__in=PREPARATIONS, user__isnull=False)
    if last_approval is not None:
        since = since.filter(pk__gt=last_approval.pk)
    ids = set(since.values_list("user_id", flat=True))
    ids.update(pk for pk in (release.submitted_by_id, release.prepared_by_id) if pk is not None)
    return ids


def why_a_maker(release: Release, user: AbstractBaseUser) -> str | None:
    """Why `user` may not approve the release as one of its makers, or None."""
    if user is None or user.pk is None:
        return None
    if release.submitted_by_id == user.pk:
        return "You submitted this release, so someone else must approve it (maker-checker)."
    if user.pk in makers(release):
        return (
            "You prepared this release (you changed its parameters, had it recomputed or "
            "started it, since it was last approved), so someone else must approve it "
            "(maker-checker)."
        )
    return None


# Which transitions to offer ------------------------------------------------------------------


def why_not(action: str, release: Release, user: AbstractBaseUser) -> str | None:
    """Why this user may not perform `action` on the release now; None if they may try.

    The same rules the transition applies first (role, state, maker-checker), without locking
    or changing anything: what the admin asks before it shows a transition's form.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        return f"There is no transition called {action!r}."
    if action == Action.APPROVE and release.status == Status.SUBMITTED:
        maker = why_a_maker(release, user)
        if maker is not None:
            return maker
    try:
        _check(release, user, transition, reason="(not asked yet)")
        if action in READY_CHECKED:
            # Never offered on numbers being (re)computed or never computed: the dispatcher
            # would refuse. Whether the data changed since is for pages that load the inputs
            # anyway (the review): at national scale that is 400,000 observations to read.
            _require_computed(release, READY_CHECKED[action])
    except TransitionRefused as refusal:
        return refusal.message
    return None


# The transitions that sign off the numbers, so need them computed from the data as it is now.
READY_CHECKED = {Action.SUBMIT: "submitted", Action.APPROVE: "approved"}


def available_transitions(release: Release, user: AbstractBaseUser) -> list[Transition]:
    """The transitions this user may try on this release now (the server checks again)."""
    return [t for t in TRANSITIONS.values() if why_not(t.action, release, user) is None]


def inputs_changed(release: Release) -> bool:
    """Whether the stored inputs differ from those the release was computed with."""
    try:
        return computation.load_inputs(release).checksum != release.input_checksum
    except computation.ReleaseNotComputable:
        return True


# Shared steps --------------------------------------------------------------------------------


@contextmanager
def _locked(release: Release) -> Iterator[Release]:
    """The release's row, locked until the transaction ends.

    Without the lock two regulators (or two beat ticks) could both read "approved" and both
    act on it. The status compare-and-set in `_save` keeps that true on SQLite, which has no
    row locks.
    """
    with transaction.atomic():
        try:
            locked = Release.objects.select_for_update().get(pk=release.pk)
        except Release.DoesNotExist as error:
            raise TransitionRefused(f"Release {release.pk} no longer exists.") from error
        yield locked


def _check(
    release: Release, user: AbstractBaseUser | None, transition: Transition, reason: str = ""
) -> None:
    if user is None or not user.is_authenticated or not user.is_active:
        raise TransitionRefused("Only a signed-in, active user can change a release.")
    if not user.has_perm(f"releases.{transition.permission}"):
        raise TransitionRefused(
            f"You do not have the right to {transition.right}: that needs the "
            f"{transition.role} role."
        )
    if release.status not in transition.from_statuses:
        allowed = " or ".join(Status(s).label.lower() for s in transition.from_statuses)
        raise TransitionRefused(
            f"{release} is {release.get_status_display().lower()}; only a release that is "
            f"{allowed} can be given “{transition.label.lower()}”."
        )
    if transition.needs_reason and not reason.strip():
        raise TransitionRefused(f"“{transition.label}” needs a written reason.")


def _require_current_computation(release: Release, becoming: str) -> None:
    """Refuse unless the release's results were computed from the inputs as they are now."""
    _require_computed(release, becoming)
    try:
        current = computation.load_inputs(release).checksum
    except computation.ReleaseNotComputable as error:
        raise TransitionRefused(f"{release} cannot be {becoming}: {error}") from error
    if current != release.input_checksum:
        hint = "recompute it" if release.status == Status.DRAFT else "return it for changes"
        raise TransitionRefused(
            f"The inputs of {release} changed since it was computed, so its numbers are out of "
            f"date: {hint} before it can be {becoming}."
        )


def _require_computed(release: Release, becoming: str) -> None:
    """Refuse unless the release's last computation finished (cheap: no inputs are read)."""
    if release.computation in (Release.Computation.QUEUED, Release.Computation.RUNNING):
        raise TransitionRefused(
            f"{release} is being computed; it can be {becoming} once the computation finishes."
        )
    if release.computation == Release.Computation.FAILED:
        raise TransitionRefused(
            f"The last computation of {release} failed ({release.failure_reason}); fix that "
            f"and recompute before it can be {becoming}."
        )
    if release.computation != Release.Computation.COMPUTED or not release.input_checksum:
        raise TransitionRefused(
            f"{release} has not been computed; compute it before it can be {becoming}."
        )


def _save(
    release: Release,
    from_status: str,
    user: AbstractBaseUser | None,
    action: str,
    reason: str,
    request_id: str,
    fields: list[str],
    details: dict[str, Any] | None = None,
) -> None:
    """Claim the state change, save it with its history, and write the audit entry."""
    # Compare-and-set on the status: the decisive step where a database has no row locks.
    claimed = Release.objects.filter(pk=release.pk, status=from_status).update(
        status=release.status
    )
    if not claimed:
        raise TransitionRefused(f"{release} changed while this was being decided; reload it.")
    release._history_user = user
    label = ReleaseTransition.Action(action).label
    release._change_reason = f"{label}: {reason.strip()}" if reason.strip() else label
    release.save(update_fields=fields)
    _audit(release, from_status, release.status, user, action, reason, request_id, details)


def _audit(
    release: Release,
    from_status: str,
    to_status: str,
    user: AbstractBaseUser | None,
    action: str,
    reason: str,
    request_id: str,
    details: dict[str, Any] | None = None,
) -> ReleaseTransition:
    return ReleaseTransition.objects.create(
        release=release,
        action=action,
        from_status=from_status,
        to_status=to_status,
        user=user,
        reason=reason.strip(),
        request_id=request_id[:64],
        details={"input_checksum": release.input_checksum, **(details or {})},
    )


def _publish(
    release: Release, user: AbstractBaseUser | None, now: datetime, reason: str, request_id: str
) -> None:
    """Approved or scheduled → published, and the revision it corrects → superseded."""
    previous = release.status
    release.status = Status.PUBLISHED
    release.published_at = now
    _save(
        release,
        previous,
        user,
        Action.PUBLISH,
        reason,
        request_id,
        ["status", "published_at"],
        details={"scheduled_for": release.scheduled_for.isoformat()}
        if release.scheduled_for
        else None,
    )
    if release.supersedes_id is not None:
        old = Release.objects.select_for_update().get(pk=release.supersedes_id)
        if old.status == Status.PUBLISHED:
            old.status = Status.SUPERSEDED
            _save(
                old,
                Status.PUBLISHED,
                user,
                Action.SUPERSEDE,
                f"Corrected by revision {release.revision}",
                request_id,
                ["status"],
                details={"superseded_by": release.pk},
            )
    _send_on_commit(release_published, release.pk)
    release_id = release.pk
    transaction.on_commit(lambda: notifications.release_published(release_id), robust=True)


def _send_on_commit(signal: Any, release_id: int) -> None:
    def send() -> None:
        release = Release.objects.select_related("quarter", "peer_group", "framework").get(
            pk=release_id
        )
        # A failing receiver (cache, interventions) must not undo or hide a publication that
        # has already happened; it is logged for its owner to fix.
        for receiver, outcome in signal.send_robust(sender=Release, release=release):
            if isinstance(outcome, Exception):
                logger.error(
                    "Receiver %r of a release signal failed for %s",
                    receiver,
                    release,
                    exc_info=outcome,
                )

    transaction.on_commit(send)


def _refresh(release: Release, locked: Release) -> Release:
    """Bring the caller's instance up to date with what was saved."""
    for field in Release._meta.concrete_fields:
        setattr(release, field.attname, getattr(locked, field.attname))
    for name in ("submitted_by", "approved_by"):
        if name in locked._state.fields_cache:
            release._state.fields_cache[name] = locked._state.fields_cache[name]
        else:
            release._state.fields_cache.pop(name, None)
    return release


# Correction notes ----------------------------------------------------------------------------


def _with_changes(release: Release) -> str:
    """The regulator's note followed by the list of what changed, one line per trust, as the
    public reads it (the review showed the approver the same list)."""
    changes = correction_changes(release)
    lines = changes.lines() if changes is not None else [NOTHING_CHANGED]
    revision = release.supersedes.revision if release.supersedes else release.revision - 1
    return (
        hand_written_note(release.correction_note)
        + f"\n\n{CHANGES_HEADING} {revision}:\n"
        + "\n".join(f"- {line}" for line in lines)
    )
