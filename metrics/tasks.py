"""Thin Celery tasks for data files: take a primary key, call one function."""

from celery import shared_task

from metrics.imports.uploads import import_upload


@shared_task
def import_file(import_run_id: int) -> str:
    """Import a confirmed admin upload. A rerun, or a run whose upload is gone, does nothing."""
    return import_upload(import_run_id)
