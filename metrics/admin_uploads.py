"""Uploading NHS data files through the admin: validate first, import on confirmation.

1. The regulator uploads a file and says what it is (NOF data file, A&E sitrep, ERIC/ODS trust
   register). It is stored, and validated at once by running its importer inside a transaction
   that is always rolled back: the importers have no validate-only mode, and this way the
   validation is exactly the import, every invalid row is listed, and nothing is saved.
2. An `ImportRun` records the upload (file, checksum, who, the validation report). A rejected
   file stays "rejected" with its errors, so it shows on the uploader's to-do list.
3. On confirmation the import runs as a Celery job (`metrics.tasks.import_file`), queued after
   the confirming transaction commits. The importer writes its own `ImportRun`, which its
   observations point to; the job gives it the stored file too, and copies the outcome onto the
   upload's run, so either row leads to the file, its checksum, the report and the importer.

The upload's progress is its `stage`, kept at the start of its report: awaiting confirmation,
queued, importing, then imported or rejected. The importers report no progress within a file
(it is one transaction), so the page shows the stage and refreshes itself until it is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from metrics.importing import ImportRejected, ImportReport
from metrics.models import ImportRun

logger = logging.getLogger(__name__)

UPLOAD_PERMISSION = "metrics.add_importrun"
UPLOAD_DIRECTORY = "imports/uploads"

# The stage of an upload, as the first line of its run's report (ImportRun has no field for it).
AWAITING = "Validated: no invalid rows. Awaiting confirmation to import."
QUEUED = "Confirmed: queued for import."
IMPORTING = "Importing."


def _importers() -> dict[str, Callable[..., ImportReport]]:
    # Imported when used: the importers load the trust register and metric catalogue modules.
    from metrics.importers import import_ae, import_nof
    from trusts.importers import import_trusts

    return {
        ImportRun.Kind.NOF: import_nof,
        ImportRun.Kind.AE: import_ae,
        ImportRun.Kind.TRUSTS: import_trusts,
    }


UPLOAD_KINDS = [
    (ImportRun.Kind.NOF, "NOF data file (NHS England's long CSV)"),
    (ImportRun.Kind.AE, "A&E monthly sitrep (provider level CSV)"),
    (ImportRun.Kind.TRUSTS, "Trust register: ERIC trust CSV or ODS etr.csv"),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the file is", choices=UPLOAD_KINDS)
    file = forms.FileField(label="File", help_text="CSV, as NHS England publishes it.")


def stage(run: ImportRun) -> str:
    """Where an upload is: awaiting, queued, importing, imported or rejected."""
    if run.status == ImportRun.Status.REJECTED:
        return "rejected"
    if run.status == ImportRun.Status.IMPORTED:
        return "imported"
    for name, marker in (("awaiting", AWAITING), ("queued", QUEUED), ("importing", IMPORTING)):
        if run.report.startswith(marker):
            return name
    return "validating"


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
        status=ImportRun.Status.REJECTED if rejected else ImportRun.Status.VALIDATING,
        finished_at=timezone.now() if rejected else None,
        rows_read=report.rows_read,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped_count,
        errors=[error.as_dict() for error in report.errors],
        report=("" if rejected else AWAITING + "\n\nWhat the import would do:\n") + str(report),
    )
    run.uploaded_file.name = stored
    run.save()
    return run


def confirm_upload(run: ImportRun) -> bool:
    """Queue the import of a validated upload; False if it was not awaiting confirmation."""
    from metrics.tasks import import_file

    with transaction.atomic():
        # Compare-and-set, so a double click queues one import.
        claimed = ImportRun.objects.filter(
            pk=run.pk, status=ImportRun.Status.VALIDATING, report__startswith=AWAITING
        ).update(report=QUEUED + "\n\n" + run.report[len(AWAITING) :].lstrip())
        if claimed:
            run_id = run.pk
            transaction.on_commit(lambda: import_file.delay(run_id))
    return bool(claimed)


def import_upload(run_id: int) -> str:
    """Import a confirmed upload (the Celery job's body); returns the upload's final stage."""
    run = ImportRun.objects.select_related("imported_by").filter(pk=run_id).first()
    if run is None:
        return "missing"
    claimed = ImportRun.objects.filter(
        pk=run_id, status=ImportRun.Status.VALIDATING, report__startswith=QUEUED
    ).update(report=f"{IMPORTING} Started {timezone.localtime():%d %b %Y %H:%M:%S}.")
    if not claimed:
        return stage(run)  # a rerun of the job, or an upload that was never confirmed
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
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.VALIDATING).update(
            status=ImportRun.Status.REJECTED,
            finished_at=timezone.now(),
            report=f"Import failed, nothing saved: {error!r}",
        )
    run.refresh_from_db()
    return stage(run)


class UploadViews:
    """The upload pages, mounted on the ImportRun admin by its `get_urls`."""

    def __init__(self, model_admin: ModelAdmin) -> None:
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload), name="metrics_importrun_upload"),
            path("upload/<int:run_id>/", view(self.status), name="metrics_importrun_upload_status"),
        ]

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model_admin.opts,
            **extra,
        }

    def upload(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(UPLOAD_PERMISSION):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            run = receive_upload(form.cleaned_data["kind"], form.cleaned_data["file"], request.user)
            if run.status == ImportRun.Status.REJECTED:
                self.model_admin.message_user(
                    request,
                    f"{run.file_name} has invalid rows; nothing was saved. Every one is listed.",
                    messages.ERROR,
                )
            return HttpResponseRedirect(
                reverse("admin:metrics_importrun_upload_status", args=[run.pk])
            )
        return TemplateResponse(
            request,
            "admin/uploads/upload.html",
            self._context(request, title="Upload a data file", form=form),
        )

    def status(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not request.user.has_perm("metrics.view_importrun"):
            raise PermissionDenied
        run = ImportRun.objects.select_related("imported_by").filter(pk=run_id).first()
        if run is None or not run.uploaded_file:
            raise Http404("No such upload.")
        if request.method == "POST":
            if not request.user.has_perm(UPLOAD_PERMISSION):
                raise PermissionDenied
            if confirm_upload(run):
                self.model_admin.message_user(request, f"{run.file_name}: import queued.")
            else:
                self.model_admin.message_user(
                    request, f"{run.file_name} is not awaiting confirmation.", messages.WARNING
                )
            return HttpResponseRedirect(
                reverse("admin:metrics_importrun_upload_status", args=[run.pk])
            )
        current = stage(run)
        return TemplateResponse(
            request,
            "admin/uploads/status.html",
            self._context(
                request,
                title=f"Upload: {run.file_name}",
                run=run,
                stage=current,
                in_progress=current in ("queued", "importing"),
                can_confirm=current == "awaiting" and request.user.has_perm(UPLOAD_PERMISSION),
            ),
        )
