from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports.base import ImportCommand, ImportReport
from metrics.imports.complaints import import_complaints


class Command(ImportCommand):
    help = "Import NHS England's KO41a written complaints (organisation level CSV)."

    def import_file(
        self, path: Path, user: AbstractBaseUser | None, options: dict[str, Any]
    ) -> ImportReport:
        return import_complaints(path, user=user)
