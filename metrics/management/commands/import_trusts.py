from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import CommandError, CommandParser

from metrics.imports.base import ImportCommand, ImportReport
from metrics.imports.register import import_trusts


class Command(ImportCommand):
    help = "Import the trust register from an ERIC trust CSV or an ODS etr.csv extract."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--year",
            help="financial year of ERIC context measures, e.g. 2024/25 (default: from the "
            "file name)",
        )

    def import_file(
        self, path: Path, user: AbstractBaseUser | None, options: dict[str, Any]
    ) -> ImportReport:
        try:
            return import_trusts(path, user=user, year=options["year"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
