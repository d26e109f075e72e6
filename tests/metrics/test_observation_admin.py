"""An admin edit of an observation never leaves beside a new value the score supplied for the
old one, as the importers refuse (tests/metrics/imports/test_stale_scores.py)."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from metrics.models import Observation
from tests.factories import quarter

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(real_nof: None) -> Client:
    client = Client()
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests")
    client.force_login(user)
    return client


def ryy_of0057() -> Observation:
    return Observation.objects.get(trust__ods_code="RYY", metric__code="OF0057", quarter=quarter(4))


def form(observation: Observation, **changes: str) -> dict[str, str]:
    data = {
        "trust": str(observation.trust_id),
        "metric": str(observation.metric_id),
        "quarter": str(observation.quarter_id),
        "value": str(observation.value),
        "value_text": observation.value_text,
        "supplied_score": str(observation.supplied_score or ""),
        "reporting_period": observation.reporting_period,
        "change_reason": "RYY resubmitted its Q4 UCR figure",
    }
    data.update(changes)
    return data


def test_it_refuses_a_new_value_that_keeps_the_supplied_score(root: Client) -> None:
    observation = ryy_of0057()
    url = reverse("admin:metrics_observation_change", args=[observation.pk])
    history = observation.history.count()

    response = root.post(url, form(observation, value="95.5"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["supplied_score"]
    assert errors == [
        "RYY OF0057 Q4 2025/26: the value would change from 86.02 to 95.5 but keep the "
        "supplied score 2.06 (OF1057), which was given for 86.02. Enter the score for the new "
        "value, or tick “The supplied score holds for the new value” if the source says so."
    ]
    observation.refresh_from_db()
    assert (observation.value, observation.supplied_score) == (Decimal("86.02"), Decimal("2.06"))
    assert observation.history.count() == history


def test_it_saves_a_new_value_with_its_new_score(root: Client) -> None:
    observation = ryy_of0057()
    url = reverse("admin:metrics_observation_change", args=[observation.pk])

    response = root.post(url, form(observation, value="95.5", supplied_score="1.00"))

    assert response.status_code == 302
    observation.refresh_from_db()
    assert (observation.value, observation.supplied_score) == (Decimal("95.5"), Decimal(1))


def test_it_saves_a_new_value_whose_score_the_regulator_confirms(root: Client) -> None:
    observation = ryy_of0057()
    url = reverse("admin:metrics_observation_change", args=[observation.pk])

    response = root.post(url, form(observation, value="86.03", score_still_holds="on"))

    assert response.status_code == 302
    observation.refresh_from_db()
    assert (observation.value, observation.supplied_score) == (Decimal("86.03"), Decimal("2.06"))
    latest = observation.history.first()
    assert latest.history_change_reason == "RYY resubmitted its Q4 UCR figure"


def test_it_asks_about_the_score_only_where_one_was_supplied(root: Client) -> None:
    supplied = ryy_of0057()
    Observation.objects.filter(pk=supplied.pk).update(supplied_score=None)

    page = root.get(reverse("admin:metrics_observation_change", args=[supplied.pk]))
    assert "score_still_holds" not in page.content.decode()
    Observation.objects.filter(pk=supplied.pk).update(supplied_score=Decimal("2.06"))
    page = root.get(reverse("admin:metrics_observation_change", args=[supplied.pk]))
    assert "The supplied score holds for the new value" in page.content.decode()
    assert root.get(reverse("admin:metrics_observation_add")).status_code == 200
