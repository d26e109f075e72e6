"""Uploading NHS data files through the admin: validate first, import on confirmation.

1. A regulator uploads a file and says what it is (NOF data file, A&E sitrep, ERIC/ODS trust
   register, KO41a complaints, CQC survey benchmark workbook). `receive_upload` stores it and
   validates it at once by running its importer inside a transaction that is always rolled
   back: the validation is exactly the import, every invalid row is listed, and nothing is
   saved. One `ImportRun` records the upload (file, checksum, who,
   the report), "rejected" with its errors or "awaiting" confirmation.
2. `confirm_upload` moves an awaiting upload to "queued"; the admin then queues the Celery job
   (`metrics.tasks.import_file`) once that commits.
3. `import_upload`, the job's body, moves it to "importing" and runs the importer on the same
   `ImportRun`, which ends "imported" or "rejected": one row holds the file, its report and the
   imported records' provenance.

The importers report no progress within a file (it is one transaction), so the upload page shows
the run's status and refreshes itself until it is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from django import forms
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from metrics.imports.base import ImportRejected, ImportReport
from metrics.models import ImportRun

logger = logging.getLogger(__name__)

UPLOAD_PERMISSION = "metrics.add_importrun"
UPLOAD_DIRECTORY = "imports/uploads"


def _importers() -> dict[str, Callable[..., ImportReport]]:
    # Imported when used: the importers load the trust register and metric catalogue modules.
    from metrics.imports.ae import import_ae
    from metrics.imports.complaints import import_complaints
    from metrics.imports.nof import import_nof
    from metrics.imports.register import import_trusts
    from metrics.imports.survey import import_patient_survey

    return {
        ImportRun.Kind.NOF: import_nof,
        ImportRun.Kind.AE: import_ae,
        ImportRun.Kind.TRUSTS: import_trusts,
        ImportRun.Kind.COMPLAINTS: import_complaints,
        ImportRun.Kind.SURVEY: import_patient_survey,
    }


UPLOAD_KINDS = [
    (ImportRun.Kind.NOF, "NOF data file (NHS England's long CSV)"),
    (ImportRun.Kind.AE, "A&E monthly sitrep (provider level CSV)"),
    (ImportRun.Kind.TRUSTS, "Trust register: ERIC trust CSV or ODS etr.csv"),
    (ImportRun.Kind.COMPLAINTS, "KO41a written complaints, organisation level (CSV)"),
    (ImportRun.Kind.SURVEY, "CQC survey trust benchmark workbook (OpenDocument .ods)"),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the file is", choices=UPLOAD_KINDS)
    file = forms.FileField(
        label="File", help_text="As NHS England or the CQC publishes it (CSV, or .ods)."
    )


class _RolledBack(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


def validate(kind: str, file_path: Path, user: Any) -> ImportReport:
    """The importer's report on the file, with nothing it wrote kept."""
    importer = _importers()[kind]
    try:
        with transaction.atomic():
            try:
                report = importer(file_path, user)
            except ImportRejected as rejected:
                report = rejected.report
            except Exception as error:
                # e.g. the file would change data a signed-off release used (PublishedDataIsFixed)
                report = ImportReport(kind=kind, file_name=file_path.name)
                report.add_error(1, "(file)", "", str(error) or repr(error))
            raise _RolledBack(report)
    except _RolledBack as done:
        return done.report


def receive_upload(kind: str, uploaded: Any, user: Any) -> ImportRun:
    """Store the file, validate it, and record the upload with its report."""
    name = Path(uploaded.name).name  # the trust importer reads the year from the file's name
    stored = default_storage.save(f"{UPLOAD_DIRECTORY}/{uuid4().hex}/{name}", uploaded)
    report = validate(kind, Path(default_storage.path(stored)), user)
    rejected = report.rejected
    run = ImportRun(
        kind=kind,
        file_name=name[:300],
        checksum=report.checksum,
        imported_by=user,
        status=ImportRun.Status.REJECTED if rejected else ImportRun.Status.AWAITING,
        finished_at=timezone.now() if rejected else None,
        rows_read=report.rows_read,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped_count,
        errors=[error.as_dict() for error in report.errors],
        report=("" if rejected else "What the import would do:\n") + str(report),
    )
    run.uploaded_file.name = stored
    run.save()
    return run


def confirm_upload(run: ImportRun) -> bool:
    """Mark a validated upload queued; False if it was not awaiting confirmation.

    The caller queues `metrics.tasks.import_file` once this has committed.
    """
    # Compare-and-set, so a double click queues one import.
    return bool(
        ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.AWAITING).update(
            status=ImportRun.Status.QUEUED
        )
    )


def import_upload(run_id: int) -> str:
    """Import a confirmed upload (the Celery job's body); returns the upload's final stage."""
    run = ImportRun.objects.select_related("imported_by").filter(pk=run_id).first()
    if run is None:
        return "missing"
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).update(
        status=ImportRun.Status.IMPORTING
    )
    if not claimed:
        return run.status  # a rerun of the job, or an upload that was never confirmed
    file_path = Path(default_storage.path(run.uploaded_file.name))
    try:
        # The upload's own run records the import: one row holds the file, its report and the
        # imported records' provenance.
        _importers()[run.kind](file_path, run.imported_by, run=run)
    except ImportRejected:
        pass  # recorded on the run by the importer, every invalid row listed
    except Exception as error:
        logger.exception("Import of upload %s failed", run_id)
        # Failed before the importer could record anything: say so on the upload.
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.IMPORTING).update(
            status=ImportRun.Status.REJECTED,
            finished_at=timezone.now(),
            report=f"Import failed, nothing saved: {error!r}",
        )
    run.refresh_from_db()
    return run.status
