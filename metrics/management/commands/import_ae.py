from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports.ae import import_ae
from metrics.imports.base import ImportCommand, ImportReport


class Command(ImportCommand):
    help = "Import NHS England's A&E monthly sitrep (provider level) into AE4H and AE12H."

    def import_file(
        self, path: Path, user: AbstractBaseUser | None, options: dict[str, Any]
    ) -> ImportReport:
        return import_ae(path, user=user)
