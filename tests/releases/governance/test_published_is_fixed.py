"""Published means fixed: results and the inputs that fed them refuse every ordinary write
once a release is signed off, until a correction is opened."""

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from metrics.imports.base import ImportRejected
from metrics.imports.nof import import_nof
from metrics.models import ImportRun, MetricDefinition, Observation, TrustQuarterStatus
from releases.models import (
    MetricPeerStatistics,
    MetricResult,
    PublishedDataIsFixed,
    Release,
    TrustResult,
)
from releases.services import lifecycle
from tests.factories import make_trusts, quarter

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def fed(release: Release) -> Observation:
    """An observation the release was computed from."""
    return (
        Observation.objects.filter(quarter=release.quarter, trust__results__release=release)
        .select_related("trust", "metric")
        .order_by("pk")
        .first()
    )


@pytest.fixture
def published(release: Release, move: Callable) -> Release:
    return move(release, Status.PUBLISHED)


def test_it_refuses_to_change_or_delete_a_published_result(published: Release) -> None:
    result = published.trust_results.first()
    result.segment = 1
    with pytest.raises(PublishedDataIsFixed, match="fixed"):
        result.save()
    metric_result = published.metric_results.first()
    metric_result.score = Decimal(1)
    with pytest.raises(PublishedDataIsFixed):
        metric_result.save()
    with pytest.raises(PublishedDataIsFixed):
        published.peer_statistics.first().delete()
    with pytest.raises(PublishedDataIsFixed):
        TrustResult(release=published, trust=result.trust).save()


def test_it_refuses_bulk_writes_to_published_results(published: Release) -> None:
    before = list(TrustResult.objects.filter(release=published).values_list("trust_id", "segment"))
    scores = MetricResult.objects.filter(release=published).count()
    with pytest.raises(PublishedDataIsFixed):
        TrustResult.objects.filter(release=published).update(segment=1)
    with pytest.raises(PublishedDataIsFixed):
        MetricResult.objects.filter(release=published).delete()
    rows = list(MetricPeerStatistics.objects.filter(release=published))
    with pytest.raises(PublishedDataIsFixed):
        MetricPeerStatistics.objects.bulk_update(rows, ["median"])
    with pytest.raises(PublishedDataIsFixed):
        TrustResult.objects.bulk_create(
            [TrustResult(release=published, trust=rows[0].release.trust_results.first().trust)]
        )
    after = list(TrustResult.objects.filter(release=published).values_list("trust_id", "segment"))
    assert after == before
    assert MetricResult.objects.filter(release=published).count() == scores


def test_it_refuses_to_delete_a_release_past_draft(published: Release) -> None:
    with pytest.raises(PublishedDataIsFixed):
        published.delete()
    with pytest.raises(PublishedDataIsFixed):
        Release.objects.filter(pk=published.pk).delete()


def test_it_refuses_to_change_an_observation_that_fed_a_published_release(
    published: Release,
) -> None:
    observation = fed(published)
    observation.value = Decimal("12.5")
    with pytest.raises(PublishedDataIsFixed) as refusal:
        observation.save()
    assert observation.trust.ods_code in str(refusal.value)
    assert "Start a correction" in str(refusal.value)
    with pytest.raises(PublishedDataIsFixed):
        observation.delete()
    with pytest.raises(PublishedDataIsFixed):
        Observation.objects.filter(pk=observation.pk).update(value=1)
    with pytest.raises(PublishedDataIsFixed):
        Observation.objects.bulk_update([observation], ["value"])
    with pytest.raises(PublishedDataIsFixed):
        Observation.objects.filter(quarter=published.quarter).delete()
    status = TrustQuarterStatus.objects.get(trust=observation.trust, quarter=published.quarter)
    status.in_recovery_support = True
    with pytest.raises(PublishedDataIsFixed):
        status.save()
    observation.refresh_from_db()
    assert observation.value != Decimal("12.5")


def test_it_refuses_a_new_observation_for_a_trust_in_a_published_release(
    published: Release,
) -> None:
    observation = fed(published)
    other_metric = published.framework.definitions.exclude(
        metric__observations__trust=observation.trust,
        metric__observations__quarter=published.quarter,
    ).first()
    if other_metric is None:
        pytest.skip("every metric of the framework already has a value")
    with pytest.raises(PublishedDataIsFixed):
        Observation.objects.create(
            trust=observation.trust, metric=other_metric.metric, quarter=published.quarter
        )


def test_it_lets_data_that_fed_no_signed_off_release_change(published: Release) -> None:
    observation = fed(published)
    peer_pooled = published.framework.definitions.filter(pool=MetricDefinition.Pool.PEER_GROUP)
    metric = peer_pooled.first().metric
    elsewhere = make_trusts(1, peer_group="acute", prefix="A")[0]
    other_group = Observation.objects.create(
        trust=elsewhere, metric=metric, quarter=published.quarter, value=1
    )
    other_quarter = Observation.objects.create(
        trust=observation.trust, metric=observation.metric, quarter=quarter(3), value=1
    )
    other_quarter.value = Decimal(2)
    other_quarter.save()
    assert Observation.objects.get(pk=other_group.pk).value == 1
    assert Observation.objects.get(pk=other_quarter.pk).value == 2


def test_it_refuses_another_peer_groups_value_of_a_nationally_pooled_metric(
    published: Release,
) -> None:
    national = published.framework.definitions.filter(pool=MetricDefinition.Pool.NATIONAL)
    if not national.exists():
        pytest.skip("the framework ranks no metric over a national pool")
    elsewhere = make_trusts(1, peer_group="acute", prefix="A")[0]
    with pytest.raises(PublishedDataIsFixed, match="national pool"):
        Observation.objects.create(
            trust=elsewhere, metric=national.first().metric, quarter=published.quarter, value=1
        )


@pytest.mark.parametrize(
    ("status", "fixed"),
    [
        (Status.DRAFT, False),
        (Status.SUBMITTED, False),  # the approver's checksum comparison catches it
        (Status.APPROVED, True),
        (Status.SCHEDULED, True),
        (Status.PUBLISHED, True),
        (Status.WITHDRAWN, False),
    ],
)
def test_it_fixes_inputs_from_approval_on(
    release: Release, move: Callable, status: str, fixed: bool
) -> None:
    move(release, status)
    observation = fed(release)
    observation.value = Decimal("12.5")
    if fixed:
        with pytest.raises(PublishedDataIsFixed, match=r"Return for changes|Start a correction"):
            observation.save()
    else:
        observation.save()
        observation.refresh_from_db()
        assert observation.value == Decimal("12.5")


def test_it_lets_inputs_change_once_a_correction_is_open(published: Release, maker: Any) -> None:
    observation = fed(published)
    lifecycle.start_correction(published, maker, "OF0084 misreported")
    observation.value = Decimal("12.5")
    observation.save()
    observation.refresh_from_db()
    assert observation.value == Decimal("12.5")
    # The published revision's own numbers stay as they were.
    with pytest.raises(PublishedDataIsFixed):
        published.trust_results.update(segment=1)


def test_it_refuses_to_change_a_published_observation_in_the_admin(
    published: Release, superuser: Any
) -> None:
    observation = fed(published)
    client = Client()
    client.force_login(superuser, backend=MODEL_BACKEND)
    url = reverse("admin:metrics_observation_change", args=[observation.pk])
    response = client.post(
        url,
        {
            "trust": observation.trust_id,
            "metric": observation.metric_id,
            "quarter": observation.quarter_id,
            "value": "12.5",
            "value_text": "",
            "supplied_score": "",
            "reporting_period": "x",
            "change_reason": "Trying to correct a published value in place",
        },
    )
    # A form error that says why and what to do, not an error page.
    assert response.status_code == 200
    body = response.content.decode()
    assert f"{observation.trust.ods_code}&#x27;s data for {published.quarter} fed" in body
    assert "Start a correction" in body
    observation.refresh_from_db()
    assert observation.value != Decimal("12.5")


def test_it_shows_results_read_only_in_the_admin(published: Release, superuser: Any) -> None:
    client = Client()
    client.force_login(superuser, backend=MODEL_BACKEND)
    result = published.trust_results.first()
    segment = result.segment
    for name in ("trustresult", "metricresult", "metricpeerstatistics"):
        assert client.get(reverse(f"admin:releases_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:releases_{name}_add")).status_code == 403
    change = reverse("admin:releases_trustresult_change", args=[result.pk])
    assert client.get(change).status_code == 200  # viewable
    assert client.post(change, {"segment": 1}).status_code == 403
    delete = reverse("admin:releases_trustresult_delete", args=[result.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    result.refresh_from_db()  # still there, unchanged
    assert result.segment == segment


def test_it_refuses_an_import_that_would_change_published_inputs(
    published: Release, tmp_path: Path
) -> None:
    observation = fed(published)
    code = observation.metric.score_code or observation.metric.code
    path = tmp_path / "nof-correction.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Quarter", "Trust_code", "Metric_ID", "Reporting_date", "Value"])
        writer.writerow(
            [published.quarter.label, observation.trust.ods_code, code, "Mar-26", "1.5"]
        )
    stored = (observation.value, observation.supplied_score)
    with pytest.raises(ImportRejected) as rejected:
        import_nof(path)
    observation.refresh_from_db()
    assert (observation.value, observation.supplied_score) == stored
    assert [error.line for error in rejected.value.report.errors] == [2]
    assert "correction" in rejected.value.report.errors[0].reason
    run = ImportRun.objects.get(file_name=path.name)
    assert run.status == ImportRun.Status.REJECTED


def test_it_lets_an_import_correct_published_inputs_once_a_correction_is_open(
    published: Release, maker: Any, tmp_path: Path
) -> None:
    observation = fed(published)
    code = observation.metric.score_code or observation.metric.code
    path = tmp_path / "nof-correction.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Quarter", "Trust_code", "Metric_ID", "Reporting_date", "Value"])
        writer.writerow(
            [published.quarter.label, observation.trust.ods_code, code, "Mar-26", "1.5"]
        )
    lifecycle.start_correction(published, maker, "OF0084 misreported")
    import_nof(path)
    observation.refresh_from_db()
    assert Decimal("1.5") in (observation.value, observation.supplied_score)
