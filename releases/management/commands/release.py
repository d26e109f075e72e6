from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from releases.models import Release, ReleaseTransition
from releases.services import lifecycle
from releases.services.drafts import ReleaseError, parse_quarter
from trusts.models import PeerGroup

Action = ReleaseTransition.Action

# Command word → transition; lifecycle.perform calls its service function, as the admin does.
ACTIONS: dict[str, str] = {
    "submit": Action.SUBMIT,
    "approve": Action.APPROVE,
    "return": Action.RETURN,
    "schedule": Action.SCHEDULE,
    "publish": Action.PUBLISH,
    "withdraw": Action.WITHDRAW,
}


class Command(BaseCommand):
    help = (
        "Move a release through its lifecycle with a named user's rights, exactly as the admin "
        "does. Prints the new state; exits non-zero with the reason when refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=list(ACTIONS))
        parser.add_argument("--quarter", required=True, help='e.g. "Q4 2025/26"')
        parser.add_argument("--peer-group", required=True, help="e.g. mental-health-community")
        parser.add_argument("--user", required=True, help="The username acting.")
        parser.add_argument("--reason", default="", help="Required to return or withdraw.")
        parser.add_argument(
            "--at",
            type=_datetime,
            help="Publication time for schedule, ISO 8601, e.g. 2026-05-14T09:30 "
            "(local time unless an offset is given).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = ACTIONS[options["action"]]
        if options["action"] == "schedule" and options["at"] is None:
            raise CommandError("schedule needs --at, the publication time.")
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No user is called {options['user']!r}.") from error
        release = _release(options["quarter"], options["peer_group"], action)
        try:
            release = lifecycle.perform(
                action,
                release,
                user,
                reason=options["reason"],
                at=options["at"],
                via="release command",
            )
        except lifecycle.TransitionRefused as refusal:
            raise CommandError(f"{release}: refused: {refusal.message}") from refusal
        state = release.get_status_display().lower()
        if release.status == Release.Status.SCHEDULED and release.scheduled_for:
            state += f" for {timezone.localtime(release.scheduled_for):%Y-%m-%d %H:%M %Z}"
        self.stdout.write(self.style.SUCCESS(f"{release}: {state}"))


def _release(quarter_text: str, peer_group_slug: str, action: str) -> Release:
    """The revision the action is about: the newest one it applies to, else the newest."""
    try:
        quarter = parse_quarter(quarter_text)
    except ReleaseError as error:
        raise CommandError(str(error)) from error
    if not PeerGroup.objects.filter(slug=peer_group_slug).exists():
        known = ", ".join(PeerGroup.objects.values_list("slug", flat=True))
        raise CommandError(f"Peer group {peer_group_slug!r} is unknown (known: {known}).")
    revisions = Release.objects.filter(
        quarter=quarter, peer_group__slug=peer_group_slug
    ).select_related("quarter", "peer_group")
    applicable = revisions.filter(status__in=lifecycle.TRANSITIONS[action].from_statuses)
    release = applicable.order_by("-revision").first() or revisions.order_by("-revision").first()
    if release is None:
        raise CommandError(f"There is no release of {peer_group_slug} for {quarter}.")
    return release


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"not an ISO 8601 date and time: {text!r}") from error
    return timezone.make_aware(value) if timezone.is_naive(value) else value
