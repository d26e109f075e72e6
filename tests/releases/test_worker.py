"""A real Celery worker against the configured Redis broker computes a release end to end."""

import pytest
from celery.contrib.testing.worker import start_worker

from leaguetable.celery import app as celery_app
from releases import tasks
from releases.models import Release, TrustResult
from releases.services.drafts import draft_release
from tests import factories


@pytest.mark.broker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_computes_a_release_on_a_real_worker(broker_url: str) -> None:
    quarter = factories.quarter(4)
    trusts = factories.make_trusts(9)
    factories.make_observations(trusts, quarter, deficit={"T002"})
    release = draft_release(quarter, factories.PEER_GROUP)
    release.replicates = 100
    release.save()
    celery_app.conf.task_always_eager = False

    with start_worker(
        celery_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ):
        outcome = tasks.compute_release.apply_async((release.pk,), ignore_result=False).get(
            timeout=120
        )

    assert outcome == "computed"
    release.refresh_from_db()
    assert release.computation == Release.Computation.COMPUTED
    assert release.progress == 1
    assert TrustResult.objects.filter(release=release).count() == 9
    capped = TrustResult.objects.get(release=release, trust__ods_code="T002")
    assert capped.segment >= 3
