"""The regulator's to-do list: every decision waiting for this user, counted, with a link.

It lives in the project package because it reads every app (releases, uploads, freedoms,
plans); each app keeps its own rules in its querysets and selectors, and this module only asks
them. Each item is shown only to a user whose role acts on it, and only when something waits;
its link opens the admin list filtered to exactly what was counted.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from interventions.models import FreedomGrant, SupportAction, SupportPlan
from interventions.selectors import plans_ready_to_close
from metrics.models import ImportRun
from outbox.models import UnqueuedTask
from releases.models import Release, ReleaseTransition

RECENT_UPLOADS = datetime.timedelta(days=30)
EXAMPLES = 5  # rows named under an item; the link shows them all


@dataclass(frozen=True)
class Example:
    text: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    count: int
    url: str
    detail: str = ""
    examples: list[Example] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    title: str
    items: list[Item]


def _changelist(model: str, **filters: Any) -> str:
    url = reverse(f"admin:{model}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _change(model: str, pk: int) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def _release_examples(releases: QuerySet, note: Any = None, url: Any = None) -> list[Example]:
    return [
        Example(
            str(release),
            url(release) if url else _change("releases_release", release.pk),
            note(release) if note else "",
        )
        for release in releases[:EXAMPLES]
    ]


def _release_items(user: Any) -> list[Item]:
    releases = Release.objects.select_related("quarter", "peer_group", "submitted_by")
    drafts = releases.filter(status=Release.Status.DRAFT)
    Computation = Release.Computation
    items = []
    if user.has_perm("releases.compute_release"):
        to_compute = drafts.filter(computation=Computation.NOT_COMPUTED)
        running = drafts.filter(computation__in=[Computation.QUEUED, Computation.RUNNING])
        failed = drafts.filter(computation=Computation.FAILED)
        items += [
            Item(
                "todo-to-compute",
                "Drafts to compute",
                to_compute.count(),
                _changelist("releases_release", status__exact="draft", computation__exact="none"),
                examples=_release_examples(to_compute),
            ),
            Item(
                "todo-computing",
                "Drafts recomputing (their data changed)",
                running.count(),
                _changelist(
                    "releases_release", status__exact="draft", computation__in="queued,running"
                ),
                examples=_release_examples(
                    running, note=lambda r: r.progress_message or r.get_computation_display()
                ),
            ),
            Item(
                "todo-failed",
                "Computations that failed",
                failed.count(),
                _changelist("releases_release", status__exact="draft", computation__exact="failed"),
                examples=_release_examples(failed, note=lambda r: r.failure_reason[:160]),
            ),
        ]
    if user.has_perm("releases.submit_release"):
        # A hand edit of its data queues the draft at once, so it leaves this list until the
        # recomputation is done (metrics.admin.AnnouncesChangedInputs).
        ready = drafts.filter(computation=Computation.COMPUTED).order_by("-supersedes", "pk")
        returned = drafts.filter(submitted_by=user)
        reasons: dict[int, str] = {}
        for release_id, reason in (
            ReleaseTransition.objects.filter(
                release__in=returned, action=ReleaseTransition.Action.RETURN
            )
            .order_by("at", "pk")
            .values_list("release_id", "reason")
        ):
            reasons[release_id] = reason  # the latest return wins
        items += [
            Item(
                "todo-to-submit",
                "Computed drafts to check and submit",
                ready.count(),
                _changelist(
                    "releases_release", status__exact="draft", computation__exact="computed"
                ),
                examples=_release_examples(
                    ready,
                    note=lambda r: (
                        f"correction of revision {r.revision - 1}" if r.supersedes_id else ""
                    ),
                ),
            ),
            Item(
                "todo-returned",
                "Releases returned to you",
                returned.count(),
                _changelist("releases_release", status__exact="draft"),
                examples=_release_examples(returned, note=lambda r: reasons.get(r.pk, "")),
            ),
        ]
    if user.has_perm("releases.approve_release"):
        awaiting = (
            releases.filter(status=Release.Status.SUBMITTED)
            .exclude(submitted_by=user)
            .order_by("submitted_at")
        )
        items.append(
            Item(
                "todo-awaiting-approval",
                "Releases awaiting your approval",
                awaiting.count(),
                _changelist("releases_release", status__exact="submitted"),
                examples=_release_examples(
                    awaiting,
                    note=lambda r: f"submitted by {r.submitted_by}",
                    url=lambda r: reverse("admin:releases_release_review", args=[r.pk]),
                ),
            )
        )
    if user.has_perm("releases.publish_release"):
        approved = releases.filter(status=Release.Status.APPROVED).order_by("approved_at")
        items.append(
            Item(
                "todo-ready-to-schedule",
                "Approved, to schedule or publish",
                approved.count(),
                _changelist("releases_release", status__exact="approved"),
                examples=_release_examples(approved),
            )
        )
    if user.has_perm("releases.view_release"):
        scheduled = releases.filter(status=Release.Status.SCHEDULED).order_by("scheduled_for")
        items.append(
            Item(
                "todo-scheduled",
                "Scheduled publications",
                scheduled.count(),
                _changelist("releases_release", status__exact="scheduled"),
                examples=_release_examples(
                    scheduled,
                    note=lambda r: timezone.localtime(r.scheduled_for).strftime("%-d %B %Y, %H:%M"),
                ),
            )
        )
    return items


def _upload_items(user: Any) -> list[Item]:
    if not user.has_perm("metrics.add_importrun"):
        return []
    uploads = ImportRun.objects.exclude(uploaded_file="").filter(
        started_at__gte=timezone.now() - RECENT_UPLOADS
    )
    if not user.is_superuser:
        uploads = uploads.filter(imported_by=user)

    def examples(runs: QuerySet, note: Any) -> list[Example]:
        return [
            Example(
                run.file_name,
                reverse("admin:metrics_importrun_upload_status", args=[run.pk]),
                note(run),
            )
            for run in runs.order_by("-started_at")[:EXAMPLES]
        ]

    awaiting = uploads.filter(status=ImportRun.Status.AWAITING)
    rejected = uploads.filter(status=ImportRun.Status.REJECTED)
    # Confirmed but not yet imported: on a worker, or waiting for a broker that did not answer.
    queued = uploads.filter(status__in=[ImportRun.Status.QUEUED, ImportRun.Status.IMPORTING])
    return [
        Item(
            "todo-queued-uploads",
            "Uploads confirmed, not yet imported",
            queued.count(),
            _changelist("metrics_importrun", status__in="queued,importing"),
            examples=examples(queued, lambda run: run.get_status_display()),
        ),
        Item(
            "todo-awaiting-uploads",
            "Uploads awaiting your confirmation",
            awaiting.count(),
            _changelist("metrics_importrun", status__exact="awaiting"),
            examples=examples(awaiting, lambda run: f"{run.started_at:%-d %b %H:%M}"),
        ),
        Item(
            "todo-rejected-uploads",
            "Uploads with errors (nothing saved)",
            rejected.count(),
            _changelist("metrics_importrun", status__exact="rejected"),
            examples=examples(
                rejected,
                lambda run: f"{len(run.errors)} invalid row{'s' if len(run.errors) != 1 else ''}",
            ),
        ),
    ]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _trusts(queryset: QuerySet) -> int:
    return queryset.aggregate(trusts=Count("trust", distinct=True))["trusts"]


def _intervention_items(user: Any, today: datetime.date) -> list[Item]:
    items = []
    if user.has_perm("interventions.decide_freedomgrant"):
        grants = FreedomGrant.objects.visible_to(user)
        proposed = grants.filter(status=FreedomGrant.Status.PROPOSED)
        review = grants.filter(status=FreedomGrant.Status.GRANTED, review_date__lt=today)
        count = proposed.count()
        items += [
            Item(
                "todo-proposed-freedoms",
                "Proposed freedoms to grant or decline",
                count,
                _changelist("interventions_freedomgrant", status__exact="proposed"),
                detail=f"across {_plural(_trusts(proposed), 'trust')}" if count else "",
            ),
            Item(
                "todo-freedom-reviews",
                "Granted freedoms past their review date",
                review.count(),
                _changelist("interventions_freedomgrant", review="overdue"),
            ),
        ]
    if user.has_perm("interventions.decide_supportplan"):
        plans = SupportPlan.objects.visible_to(user)
        proposed = plans.filter(status=SupportPlan.Status.PROPOSED)
        escalations = plans.filter(escalation=SupportPlan.Escalation.PROPOSED)
        ready = plans.filter(pk__in=plans_ready_to_close())
        completion = SupportAction.objects.visible_to(user).awaiting_completion()
        items += [
            Item(
                "todo-proposed-plans",
                "Proposed support plans to confirm or decline",
                proposed.count(),
                _changelist("interventions_supportplan", status__exact="proposed"),
            ),
            Item(
                "todo-escalations",
                "Escalations to intensive support proposed",
                escalations.count(),
                _changelist("interventions_supportplan", escalation__exact="proposed"),
            ),
            Item(
                "todo-proposed-complete",
                "Actions proposed complete by boards",
                completion.count(),
                _changelist("interventions_supportaction", awaiting="completion"),
            ),
            Item(
                "todo-exit-met",
                "Plans whose exit criteria are all met, awaiting acceptance",
                ready.count(),
                _changelist("interventions_supportplan", exit="met"),
            ),
        ]
    if user.has_perm("interventions.view_supportplan"):
        overdue = SupportAction.objects.visible_to(user).overdue(today)
        overdue_plans = overdue.aggregate(n=Count("plan", distinct=True))["n"]
        review = SupportPlan.objects.visible_to(user).review_passed(today)
        items += [
            Item(
                "todo-overdue-actions",
                "Overdue actions",
                overdue.count(),
                _changelist("interventions_supportaction", overdue="yes"),
                detail=f"in {_plural(overdue_plans, 'plan')}" if overdue_plans else "",
            ),
            Item(
                "todo-plan-reviews",
                "Support plans past their review date",
                review.count(),
                _changelist("interventions_supportplan", review="passed"),
            ),
        ]
    return items


def _queue_items(user: Any) -> list[Item]:
    """Background work the broker would not take: every regulator sees it, since a computation,
    an import or a publication's follow-up that seems stuck waits here until the beat queues
    it again."""
    if not (user.is_active and user.is_staff):
        return []
    waiting = UnqueuedTask.objects.order_by("failed_at", "pk")
    count = waiting.count()
    return [
        Item(
            "todo-unqueued-tasks",
            "Tasks waiting for the queue (the task broker did not answer)",
            count,
            _changelist("outbox_unqueuedtask"),
            detail="queued again every minute once the broker answers" if count else "",
            examples=[
                Example(
                    str(task),
                    _change("outbox_unqueuedtask", task.pk),
                    f"since {timezone.localtime(task.failed_at):%-d %b %H:%M}, "
                    f"{_plural(task.attempts, 'attempt')}",
                )
                for task in waiting[:EXAMPLES]
            ],
        )
    ]


def regulator_todo(user: Any, today: datetime.date | None = None) -> list[Section]:
    """The sections of this user's to-do list, each with only the items that wait for them."""
    today = today or timezone.localdate()
    sections = [
        Section("Releases", _release_items(user)),
        Section("Data uploads", _upload_items(user)),
        Section("Freedoms and support", _intervention_items(user, today)),
        Section("Background work", _queue_items(user)),
    ]
    return [
        Section(section.title, [item for item in section.items if item.count])
        for section in sections
        if section.items
    ]
