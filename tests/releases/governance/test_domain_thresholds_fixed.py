"""Domain thresholds are part of what a signed-off release was scored with: fixed like the
overall thresholds, copied into a new framework version, and the release keeps its own."""

from collections.abc import Callable

import pytest

from metrics.models import Domain, DomainThresholds, PublishedFrameworkIsFixed
from metrics.services import new_framework_version
from releases.models import Release
from tests.factories import quarter

Status = Release.Status


@pytest.fixture
def thresholds(release: Release) -> DomainThresholds:
    domain = Domain.objects.get(framework=release.framework, slug="patient-safety")
    return DomainThresholds.objects.create(
        framework=release.framework,
        quarter=release.quarter,
        domain=domain,
        t1="1.9",
        t2="2.3",
        t3="2.8",
    )


def test_a_signed_off_release_fixes_its_quarters_domain_thresholds(
    release: Release, thresholds: DomainThresholds, move: Callable
) -> None:
    move(release, Status.APPROVED)

    thresholds.t1 = "1.8"
    with pytest.raises(PublishedFrameworkIsFixed, match="domain thresholds"):
        thresholds.save()
    with pytest.raises(PublishedFrameworkIsFixed):
        DomainThresholds.objects.filter(pk=thresholds.pk).update(t3="3.5")
    with pytest.raises(PublishedFrameworkIsFixed):
        thresholds.delete()
    access = Domain.objects.get(framework=release.framework, slug="access-to-services")
    with pytest.raises(PublishedFrameworkIsFixed):
        DomainThresholds.objects.create(
            framework=release.framework, quarter=release.quarter, domain=access, method="quartiles"
        )
    access.score_code = "OF9999"
    with pytest.raises(PublishedFrameworkIsFixed):
        access.save()
    # Another quarter's domain thresholds are not part of the release and stay open.
    DomainThresholds.objects.create(
        framework=release.framework, quarter=quarter(3), domain=access, method="quartiles"
    )


def test_a_new_framework_version_carries_the_domain_thresholds(
    release: Release, thresholds: DomainThresholds, move: Callable
) -> None:
    move(release, Status.PUBLISHED)

    copy = new_framework_version(release.framework)

    copied = DomainThresholds.objects.get(framework=copy, quarter=release.quarter)
    assert (copied.domain.framework_id, copied.domain.slug) == (copy.pk, "patient-safety")
    thresholds.refresh_from_db()
    assert (copied.t1, copied.t2, copied.t3) == (thresholds.t1, thresholds.t2, thresholds.t3)
    copied.t1 = "1.7"
    copied.save()
    thresholds.refresh_from_db()
    assert str(thresholds.t1) == "1.9000"
