"""Fixtures shared by the whole suite.

The real NHS files in data/nhs are the test data: real trust codes, real metric values and a
real published league table to reproduce.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaguetable.celery import app as celery_app

REPO = Path(__file__).resolve().parent.parent
NHS_DATA = REPO / "data" / "nhs"
ERIC_FILE = NHS_DATA / "eric-2024-25-trust-data.csv"
NOF_FILE = NHS_DATA / "nof-2025-26-mental-health-community-trust-data.csv"
AE_FILE = NHS_DATA / "ae-monthly-sitrep-2026-05.csv"
LEAGUE_TABLE_FILE = NHS_DATA / "nof-2025-26-q4-mental-health-community-league-table.csv"


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Parallel test processes share CI's Redis database: each keeps its cache keys under its
    # own prefix, so one process clearing its cache never empties another's mid-test.
    worker = os.getenv("PYTEST_XDIST_WORKER")
    if worker and os.getenv("REDIS_URL"):
        settings.CACHES["default"]["KEY_PREFIX"] = f"test-{worker}"
    # Tests change data and ask for the page at once, often by a bare update that no
    # publication step waits after: every request reads the generation afresh, as on SQLite.
    # tests/public/test_generation_lease.py turns the lease on.
    settings.PUBLIC_GENERATION_LEASE = 0.0


@pytest.fixture(autouse=True)
def empty_public_cache() -> Iterator[None]:
    """Each test starts with nothing stored: rolled-back tests can reuse ids, and so repeat a
    publication generation that meant other data in an earlier test."""
    from public import caching

    caching.clear()
    yield


@pytest.fixture(autouse=True)
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process unless a test asks for the real worker.

    With a broker configured (CI), tasks would otherwise go to Redis with no worker listening.
    """
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def broker_url() -> str:
    url = os.getenv("CELERY_BROKER_URL", "")
    if not url:
        pytest.skip("CELERY_BROKER_URL is not set: no Redis broker to run a real worker against")
    return url


@pytest.fixture
def real_trusts(db: None) -> None:
    from metrics.imports.register import import_trusts

    import_trusts(ERIC_FILE)


@pytest.fixture
def real_nof(real_trusts: None) -> None:
    from metrics.imports.nof import import_nof

    import_nof(NOF_FILE)
