"""What the commands that write one release as a file share: finding the release and writing
its text exactly (CRLF line endings and the byte order mark kept)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from releases.models import Release
from releases.services.drafts import ReleaseError, parse_quarter


class ReleaseFileCommand(BaseCommand):
    """Write a release as a file: the current published revision when there is one,
    otherwise the latest computation."""

    def render(self, release: Release) -> str:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarter", required=True, help='e.g. "Q4 2025/26"')
        parser.add_argument("--peer-group", required=True, help="e.g. mental-health-community")
        parser.add_argument("--output", type=Path, help="File to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        release = exportable_release(options["quarter"], options["peer_group"])
        write(self, release, self.render, options["output"])


def exportable_release(quarter_text: str, peer_group: str) -> Release:
    try:
        quarter = parse_quarter(quarter_text)
    except ReleaseError as error:
        raise CommandError(str(error)) from error
    releases = Release.objects.filter(quarter=quarter, peer_group__slug=peer_group).select_related(
        "quarter", "peer_group", "framework"
    )
    release = releases.published().first() or (
        releases.exclude(computed_at=None)
        .exclude(status=Release.Status.WITHDRAWN)
        .order_by("-revision")
        .first()
    )
    if release is None:
        raise CommandError(
            f"No computed release for {peer_group} in {quarter}: run compute_release first."
        )
    return release


def write(
    command: BaseCommand, release: Release, render: Callable[[Release], str], output: Path | None
) -> None:
    text = render(release)
    if output:
        try:
            # newline="" keeps the CRLF line endings of NHS England's files.
            with output.open("w", encoding="utf-8", newline="") as file:
                file.write(text)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}") from error
        command.stderr.write(f"Wrote {release} ({release.get_status_display()}) to {output}")
    else:
        command.stdout.ending = ""
        command.stdout.write(text)
