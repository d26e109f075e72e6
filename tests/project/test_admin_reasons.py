"""Changes to the framework and its inputs in the admin say why, and the history keeps it."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from metrics.models import Thresholds, TrustQuarterStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client: Any) -> Any:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests")
    client.force_login(user)
    return client


def thresholds_form(thresholds: Thresholds, **changes: str) -> dict[str, str]:
    data = {
        "framework": str(thresholds.framework_id),
        "quarter": str(thresholds.quarter_id),
        "method": thresholds.method,
        "t1": str(thresholds.t1),
        "t2": str(thresholds.t2),
        "t3": str(thresholds.t3),
        "source": thresholds.source,
    }
    data.update(changes)
    return data


def test_it_refuses_a_threshold_change_without_a_reason(superuser_client: Any) -> None:
    thresholds = Thresholds.objects.filter(method="fixed").first()
    url = reverse("admin:metrics_thresholds_change", args=[thresholds.pk])

    response = superuser_client.post(url, thresholds_form(thresholds, t1="2.1"))

    assert response.status_code == 200
    assert "Say why you are changing this." in response.content.decode()
    thresholds.refresh_from_db()
    assert str(thresholds.t1) != "2.1000"


def test_it_keeps_who_changed_a_threshold_and_why(superuser_client: Any) -> None:
    thresholds = Thresholds.objects.filter(method="fixed").first()
    url = reverse("admin:metrics_thresholds_change", args=[thresholds.pk])

    response = superuser_client.post(
        url, thresholds_form(thresholds, t1="2.1", change_reason="2026/27 fixed thresholds")
    )

    assert response.status_code == 302
    latest = thresholds.history.first()
    assert str(latest.t1) == "2.1000"
    assert latest.history_change_reason == "2026/27 fixed thresholds"
    assert latest.history_user.username == "root"


def test_it_keeps_the_reason_for_a_deficit_flag_set_by_a_regulator(
    superuser_client: Any,
) -> None:
    trusts = factories.make_trusts(1)
    factories.make_observations(trusts, factories.quarter(4))
    status = TrustQuarterStatus.objects.get(trust=trusts[0])
    url = reverse("admin:metrics_trustquarterstatus_change", args=[status.pk])

    response = superuser_client.post(
        url,
        {
            "trust": str(status.trust_id),
            "quarter": str(status.quarter_id),
            "in_financial_deficit": "on",
            "reason": "Month 9 forecast deficit",
            "change_reason": "Deficit confirmed by the finance team",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    latest = status.history.first()
    assert latest.in_financial_deficit is True
    assert latest.history_change_reason == "Deficit confirmed by the finance team"


def test_it_keeps_a_long_reason_whole(superuser_client: Any) -> None:
    thresholds = Thresholds.objects.filter(method="fixed").first()
    url = reverse("admin:metrics_thresholds_change", args=[thresholds.pk])
    reason = "Agreed at the oversight committee of 12 March: " + "x" * 300

    superuser_client.post(url, thresholds_form(thresholds, t2="2.31", change_reason=reason))

    assert thresholds.history.first().history_change_reason == reason
