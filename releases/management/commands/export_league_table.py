from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from releases.models import Release
from releases.selectors import league_table_csv
from releases.services.drafts import ReleaseError, parse_quarter


class Command(BaseCommand):
    help = (
        "Write a release as NHS England's league-table CSV: the current published revision "
        "when there is one, otherwise the latest computation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarter", required=True, help='e.g. "Q4 2025/26"')
        parser.add_argument("--peer-group", required=True, help="e.g. mental-health-community")
        parser.add_argument("--output", type=Path, help="File to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            quarter = parse_quarter(options["quarter"])
        except ReleaseError as error:
            raise CommandError(str(error)) from error
        releases = Release.objects.filter(
            quarter=quarter, peer_group__slug=options["peer_group"]
        ).select_related("quarter", "peer_group")
        release = releases.published().first() or (
            releases.exclude(computed_at=None)
            .exclude(status=Release.Status.WITHDRAWN)
            .order_by("-revision")
            .first()
        )
        if release is None:
            raise CommandError(
                f"No computed release for {options['peer_group']} in {quarter}: run "
                "compute_release first."
            )
        text = league_table_csv(release)
        if options["output"]:
            # newline="" keeps the CRLF line endings of NHS England's file.
            with options["output"].open("w", encoding="utf-8", newline="") as output:
                output.write(text)
            self.stderr.write(
                f"Wrote {release} ({release.get_status_display()}) to {options['output']}"
            )
        else:
            self.stdout.ending = ""
            self.stdout.write(text)
