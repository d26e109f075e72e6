from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports.base import ImportCommand, ImportReport
from metrics.imports.survey import import_patient_survey


class Command(ImportCommand):
    help = "Import a CQC trust-level survey benchmark workbook (OpenDocument .ods)."
    file_help = "the CQC benchmark workbook (.ods) to import"

    def import_file(
        self, path: Path, user: AbstractBaseUser | None, options: dict[str, Any]
    ) -> ImportReport:
        return import_patient_survey(path, user=user)
