"""Data files through the admin: validated first with every invalid row listed and nothing
saved, then imported in the background on confirmation, with the file kept as provenance."""

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from metrics import tasks
from metrics.models import ImportRun, Metric, Observation, Quarter
from releases.models import Release
from tests.factories import make_trusts

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
HEADER = "Quarter,Trust_code,Metric_ID,Reporting_date,Value\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def trusts(db: None) -> list[Any]:
    return make_trusts(3)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def nof_file(*rows: str, name: str = "nof-upload.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (HEADER + "".join(rows)).encode(), content_type="text/csv")


def upload(client: Client, file: SimpleUploadedFile, kind: str = "nof") -> Any:
    return client.post(reverse("admin:metrics_importrun_upload"), {"kind": kind, "file": file})


def metric_code() -> str:
    return Metric.objects.get(code="OF0005").code


def test_it_lists_every_invalid_row_and_saves_nothing(trusts: list[Any], analyst: Any) -> None:
    client = signed_in(analyst)
    code = metric_code()
    observations, quarters = Observation.objects.count(), Quarter.objects.count()
    response = upload(
        client,
        nof_file(
            f"Q1 2026/27,{trusts[0].ods_code},{code},Jun-26,1x5\n",
            f"Q1 2026/27,NOPE1,{code},Jun-26,2.5\n",
            f"Q1 2026/27,{trusts[1].ods_code},{code},Jun-26,3.5\n",
            f"Q1 2026/27,{trusts[1].ods_code},{code},Jun-26,3.5\n",
        ),
    )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:metrics_importrun_upload_status", args=[run.pk])
    assert run.status == ImportRun.Status.REJECTED
    assert [e["line"] for e in run.errors] == [2, 3, 5]
    assert (Observation.objects.count(), Quarter.objects.count()) == (observations, quarters)
    page = client.get(response["Location"]).content.decode()
    for text in ("not a number", "unknown trust", "duplicate", "Nothing was saved"):
        assert text in page
    assert "Import this file" not in page
    assert "Uploads with errors" in client.get(reverse("admin:index")).content.decode()


def test_it_imports_a_valid_file_only_on_confirmation_in_the_background(
    trusts: list[Any], analyst: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(analyst)
    code = metric_code()
    file = nof_file(
        f"Q1 2026/27,{trusts[0].ods_code},{code},Jun-26,1.5\n",
        f"Q1 2026/27,{trusts[1].ods_code},{code},Jun-26,2.5\n",
    )
    content = file.read()
    file.seek(0)
    status_url = upload(client, file)["Location"]
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.AWAITING
    assert run.checksum == hashlib.sha256(content).hexdigest()
    assert (media / run.uploaded_file.name).read_bytes() == content
    assert run.imported_by == analyst
    assert "observations: 2 created" in run.report  # what the import would do
    assert not Observation.objects.exists()  # validated, nothing saved
    assert not Quarter.objects.filter(year_start=2026, number=1).exists()
    assert "Import this file" in client.get(status_url).content.decode()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(status_url)
    assert not Observation.objects.exists()  # queued, runs after the commit
    run.refresh_from_db()
    assert run.status == ImportRun.Status.QUEUED
    assert "refresh" in client.get(status_url).content.decode()
    for job in queued:
        job()

    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED
    assert "observations: 2 created" in run.report
    assert Observation.objects.count() == 2
    # One row is the upload and the records' provenance: file, checksum, who, report.
    assert {o.import_run_id for o in Observation.objects.all()} == {run.pk}
    assert run.imported_by == analyst and run.finished_at is not None
    # A rerun of the job, or a second confirmation, imports nothing again.
    assert tasks.import_file.delay(run.pk).get() == "imported"
    client.post(status_url)
    assert ImportRun.objects.count() == 1


def test_it_rejects_an_upload_that_would_change_published_data(
    release: Release, move: Callable, analyst: Any
) -> None:
    move(release, Release.Status.PUBLISHED)
    observation = (
        Observation.objects.filter(
            quarter=release.quarter, trust__results__release=release, metric__code="OF0005"
        )
        .select_related("trust")
        .first()
    )
    before = observation.value
    response = upload(
        signed_in(analyst),
        nof_file(f"{release.quarter.label},{observation.trust.ods_code},OF0005,Mar-26,1.25\n"),
    )
    run = ImportRun.objects.exclude(uploaded_file="").get()
    assert run.status == ImportRun.Status.REJECTED
    assert "correction" in run.errors[0]["reason"]
    assert response.status_code == 302
    observation.refresh_from_db()
    assert observation.value == before


def test_it_lets_only_those_who_import_upload(trusts: list[Any], approver: Any) -> None:
    client = signed_in(approver)
    assert client.get(reverse("admin:metrics_importrun_upload")).status_code == 403
    assert upload(client, nof_file()).status_code == 403
    assert (
        "Upload a data file"
        not in client.get(reverse("admin:metrics_importrun_changelist")).content.decode()
    )


def test_it_links_the_upload_page_from_the_import_list(analyst: Any) -> None:
    page = signed_in(analyst).get(reverse("admin:metrics_importrun_changelist"))
    assert reverse("admin:metrics_importrun_upload") in page.content.decode()
