"""Published (and unpublished) releases for the public site's tests.

Publication here is a queryset update followed by the signal the lifecycle service sends after
its transaction commits (test_lifecycle_cache.py goes through the service itself).
"""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from releases.models import MetricPeerStatistics, MetricResult, Release, TrustResult
from releases.signals import release_published, release_withdrawn
from tests.factories import computed_release

TRUSTS = 8
REPLICATES = 40


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def set_status(release: Release, status: str, **fields: object) -> Release:
    Release.objects.filter(pk=release.pk).update(status=status, **fields)
    release.refresh_from_db()
    return release


def publish(release: Release, at: object = None) -> Release:
    set_status(release, Release.Status.PUBLISHED, published_at=at or timezone.now())
    release_published.send(sender=Release, release=release)
    return release


def withdraw(release: Release, reason: str) -> Release:
    set_status(release, Release.Status.WITHDRAWN, withdrawal_reason=reason)
    release_withdrawn.send(sender=Release, release=release)
    return release


def correct(release: Release, note: str) -> Release:
    """A second revision of the same table that supersedes the first, published."""
    correction = Release.objects.get(pk=release.pk)
    correction.pk = None
    correction.revision = release.revision + 1
    correction.status = Release.Status.DRAFT
    correction.supersedes = release
    correction.correction_note = note
    correction.published_at = None
    correction.save()
    rows = []
    for model in (TrustResult, MetricResult, MetricPeerStatistics):
        rows = list(model.objects.filter(release=release))
        for row in rows:
            row.pk = None
            row.release = correction
        model.objects.bulk_create(rows)
    set_status(release, Release.Status.SUPERSEDED)
    return publish(correction)


# Numbers that appear nowhere else, so a page showing them shows the release they belong to.
SENTINEL_AVERAGE = Decimal("3.97")
SENTINEL_VALUE = Decimal("9876.54321")
SENTINEL_MEDIAN = Decimal("8765.4321")
SENTINEL_THRESHOLD = Decimal("2.13579")
# Below 10,000 so no thousands separator splits them on a page.
SENTINELS = ("3.97", "9876.5", "8765.4", "2.13579")


def mark_with_sentinels(release: Release) -> Release:
    """Give a draft release numbers that can be searched for in any response."""
    TrustResult.objects.filter(release=release).update(
        average_score=SENTINEL_AVERAGE, average_low=SENTINEL_AVERAGE, average_high=SENTINEL_AVERAGE
    )
    MetricResult.objects.filter(release=release).update(value=SENTINEL_VALUE)
    MetricPeerStatistics.objects.filter(release=release).update(
        median=SENTINEL_MEDIAN, lower_quartile=SENTINEL_MEDIAN, upper_quartile=SENTINEL_MEDIAN
    )
    Release.objects.filter(pk=release.pk).update(
        t1=SENTINEL_THRESHOLD,
        domain_thresholds={
            "patient-safety": {
                "method": "fixed",
                "t1": str(SENTINEL_THRESHOLD),
                "t2": "2.5",
                "t3": "3",
            }
        },
    )
    release.refresh_from_db()
    return release


@pytest.fixture
def draft(db: None) -> Release:
    return computed_release(trust_count=TRUSTS, replicates=REPLICATES)


@pytest.fixture
def published(draft: Release) -> Release:
    return publish(draft, timezone.now() - timedelta(hours=1))
