from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from releases.engine import FrameworkIncomplete
from releases.services import computation
from releases.services.domain_thresholds import (
    DomainThresholdFileRefused,
    all_quartiles,
    read_domain_threshold_file,
)
from releases.services.drafts import ReleaseError, parse_quarter, planned_draft


class Command(BaseCommand):
    help = "Create or update the draft release of a quarter and peer group, and compute it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarter", required=True, help='e.g. "Q4 2025/26"')
        parser.add_argument("--peer-group", required=True, help="e.g. mental-health-community")
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument("--thresholds", help="t1,t2,t3, e.g. 2.065,2.30,2.585")
        choice.add_argument(
            "--quartiles",
            action="store_true",
            help="Derive thresholds from quartiles of the peer group's averages",
        )
        domains = parser.add_mutually_exclusive_group()
        domains.add_argument(
            "--domain-thresholds",
            type=Path,
            metavar="FILE",
            help="CSV with the header Domain_ID,t1,t2,t3 and one row per domain, keyed by "
            "NHS England's domain score IDs (OF4000, OF4002 ... OF4005)",
        )
        domains.add_argument(
            "--domain-quartiles",
            action="store_true",
            help="Segment every domain by quartiles of the peer group's domain scores",
        )
        parser.add_argument("--replicates", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument(
            "--force", action="store_true", help="Recompute even when the inputs are unchanged"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            release = planned_draft(parse_quarter(options["quarter"]), options["peer_group"])
        except ReleaseError as error:
            raise CommandError(str(error)) from error
        # Every option is checked before the release is created or changed: a refused file
        # or number saves nothing.
        if options["domain_thresholds"]:
            try:
                release.domain_thresholds = read_domain_threshold_file(
                    options["domain_thresholds"], release.framework
                )
            except DomainThresholdFileRefused as error:
                raise CommandError(str(error)) from error
        elif options["domain_quartiles"]:
            release.domain_thresholds = all_quartiles(release.framework)
        if options["thresholds"]:
            release.threshold_method = release.ThresholdMethod.FIXED
            release.t1, release.t2, release.t3 = _thresholds(options["thresholds"])
        elif options["quartiles"]:
            release.threshold_method = release.ThresholdMethod.QUARTILES
            release.t1 = release.t2 = release.t3 = None
        if options["replicates"] is not None and options["replicates"] < 1:
            raise CommandError("--replicates must be at least 1.")
        if options["replicates"] is not None:
            release.replicates = options["replicates"]
        if options["seed"] is not None:
            release.seed = options["seed"]
        release.save()

        def progress(fraction: float, message: str) -> None:
            self.stdout.write(f"{fraction:6.1%}  {message}")

        try:
            outcome = computation.compute(release.pk, force=options["force"], progress=progress)
        except (FrameworkIncomplete, computation.ReleaseNotComputable) as error:
            raise CommandError(f"{release}: {error}") from error
        release.refresh_from_db()
        if outcome == computation.ComputationOutcome.BUSY:
            raise CommandError(f"{release} is being computed by another process; try later.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{release}: {outcome}; {release.trust_results.count()} trusts; thresholds "
                f"{release.t1} / {release.t2} / {release.t3}; seed {release.seed}; "
                f"{release.replicates} replicates; checksum {release.input_checksum[:12]}"
            )
        )
        for domain in release.framework.domains.order_by("display_order"):
            entry = release.domain_thresholds.get(domain.slug)
            if entry and entry.get("t1"):
                self.stdout.write(
                    f"  {domain.score_code or domain.slug} {domain.name}: {entry['t1']} / "
                    f"{entry['t2']} / {entry['t3']} ({entry['method']})"
                )


def _thresholds(text: str) -> tuple[Decimal, Decimal, Decimal]:
    try:
        values = [Decimal(part.strip()) for part in text.split(",")]
    except InvalidOperation as error:
        raise CommandError(f"--thresholds {text!r}: not three numbers") from error
    if len(values) != 3 or not values[0] < values[1] < values[2]:
        raise CommandError(f"--thresholds {text!r}: give three increasing numbers t1,t2,t3")
    return values[0], values[1], values[2]
