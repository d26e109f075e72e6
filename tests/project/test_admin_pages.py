"""Every model has a working admin list, search and change page whose cost does not grow with
the number of rows (list_select_related: no query per row)."""

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def superuser_client(client: Any) -> Any:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests")
    client.force_login(user)
    return client


def changelist(model: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [model for model, _ in MODEL_ADMINS], ids=lambda m: m._meta.label)
def test_it_lists_searches_and_opens_every_model(superuser_client: Any, model: Any) -> None:
    factories.computed_release(trust_count=6, replicates=20)

    response = superuser_client.get(changelist(model))
    assert response.status_code == 200
    if admin.site._registry[model].search_fields:
        assert superuser_client.get(changelist(model), {"q": "T001"}).status_code == 200
    first = model._default_manager.first()
    if first is not None:
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[first.pk]
        )
        assert superuser_client.get(url).status_code == 200


@pytest.mark.parametrize(
    "label",
    [
        "trusts.Trust",
        "metrics.Observation",
        "releases.TrustResult",
        "releases.MetricResult",
        "metrics.TrustQuarterStatus",
    ],
)
def test_it_lists_rows_without_a_query_per_row(superuser_client: Any, label: str) -> None:
    model = next(m for m, _ in MODEL_ADMINS if m._meta.label == label)
    factories.computed_release(trust_count=5, replicates=20)
    with CaptureQueriesContext(connection) as few:
        assert superuser_client.get(changelist(model)).status_code == 200

    more = factories.make_trusts(25, prefix="U")
    factories.make_observations(more, factories.quarter(3))
    factories.computed_release(trust_count=0, quarter_number=3, replicates=20)
    assert model._default_manager.count() > 25
    with CaptureQueriesContext(connection) as many:
        assert superuser_client.get(changelist(model)).status_code == 200

    assert len(many) == len(few)
