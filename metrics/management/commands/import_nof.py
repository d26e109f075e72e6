from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports.base import ImportCommand, ImportReport
from metrics.imports.nof import import_nof


class Command(ImportCommand):
    help = "Import an NHS Oversight Framework data file (NHS England's long CSV)."

    def import_file(
        self, path: Path, user: AbstractBaseUser | None, options: dict[str, Any]
    ) -> ImportReport:
        return import_nof(path, user=user)
