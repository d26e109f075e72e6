"""The patient feedback files through the admin: validated, then imported on confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leaguetable import roles
from metrics.imports.base import ImportReport
from metrics.models import ComplaintsYear, ImportRun, SurveySectionResult
from tests.factories import user_with_role
from tests.metrics.imports.helpers import COMPLAINTS_FILE, SURVEY_FILE, ods_copy

pytestmark = pytest.mark.django_db
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def client(eric_loaded: ImportReport) -> Client:
    client = Client()
    client.force_login(user_with_role("analyst", roles.ANALYST), backend=MODEL_BACKEND)
    return client


def upload(client: Client, path: Path, kind: str) -> ImportRun:
    file = SimpleUploadedFile(path.name, path.read_bytes())
    response = client.post(reverse("admin:metrics_importrun_upload"), {"kind": kind, "file": file})
    assert response.status_code == 302
    return ImportRun.objects.exclude(uploaded_file="").latest("pk")


@pytest.mark.parametrize(
    ("path", "kind", "model", "count"),
    [
        (COMPLAINTS_FILE, ImportRun.Kind.COMPLAINTS, ComplaintsYear, 206),
        (SURVEY_FILE, ImportRun.Kind.SURVEY, SurveySectionResult, 1434),
    ],
)
def test_an_upload_is_validated_then_imported_as_one_import_run(
    client: Client,
    path: Path,
    kind: str,
    model: Any,
    count: int,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert (
        "CQC survey trust benchmark workbook"
        in client.get(reverse("admin:metrics_importrun_upload")).content.decode()
    )
    run = upload(client, path, kind)
    assert run.status == ImportRun.Status.AWAITING
    assert not model.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:metrics_importrun_upload_status", args=[run.pk]))

    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED
    assert model.objects.count() == count
    assert set(model.objects.values_list("import_run_id", flat=True)) == {run.pk}
    assert ImportRun.objects.filter(kind=kind).count() == 1


def test_a_broken_workbook_upload_lists_every_bad_cell_and_saves_nothing(
    client: Client, tmp_path: Path
) -> None:
    broken = ods_copy(
        SURVEY_FILE,
        tmp_path / "aip-broken.ods",
        "Trust_Scores",
        {("R0A", "meanS01"): "x", ("RJ1", "bandS02"): "8"},
    )

    run = upload(client, broken, ImportRun.Kind.SURVEY)

    assert run.status == ImportRun.Status.REJECTED
    assert [(e["line"], e["column"], e["value"]) for e in run.errors] == [
        (2, "meanS01", "x"),
        (55, "bandS02", "8"),
    ]
    page = client.get(reverse("admin:metrics_importrun_upload_status", args=[run.pk]))
    assert "aip-broken.ods, sheet Trust_Scores:55" in page.content.decode()
    assert not SurveySectionResult.objects.exists()
