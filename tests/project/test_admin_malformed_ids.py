"""An id in an admin request that no row could have is a 404 or 400 with the reason, on every
model admin of every app: never a server error (adminkit.malformed)."""

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
HISTORY_ADMINS = [model for model, ma in MODEL_ADMINS if isinstance(ma, SimpleHistoryAdmin)]
BAD_IDS = ["abc", "1.5", "99999999999999999999999"]
# Not a number, and a number past any column (an OverflowError on SQLite).
BAD_SELECTIONS = ["abc", "99999999999999999999999"]


@pytest.fixture
def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def admin_path(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", HISTORY_ADMINS, ids=lambda m: m._meta.label)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_it_answers_404_for_a_history_version_that_is_not_a_number(
    superuser_client: Client, model: Any, bad: str
) -> None:
    assert superuser_client.get(admin_path(model, "simple_history", 1, bad)).status_code == 404
    assert superuser_client.get(admin_path(model, "simple_history", bad, 1)).status_code == 404
    # The row's list of versions too.
    assert superuser_client.get(admin_path(model, "history", bad)).status_code == 404


def action_names(model: Any, user: Any) -> list[str]:
    request = type("Request", (), {"user": user, "GET": {}, "POST": {}})()
    return list(admin.site._registry[model].get_actions(request))


@pytest.mark.parametrize("model", [m for m, _ in MODEL_ADMINS], ids=lambda m: m._meta.label)
@pytest.mark.parametrize("bad", BAD_SELECTIONS)
def test_it_answers_400_for_a_list_action_on_a_selection_that_is_not_an_id(
    superuser_client: Client, model: Any, bad: str
) -> None:
    user = get_user_model().objects.get(username="root")
    actions = action_names(model, user)
    if not actions:
        pytest.skip("no list actions")
    for action in actions:
        response = superuser_client.post(
            admin_path(model, "changelist"), {"action": action, ACTION_CHECKBOX_NAME: [bad]}
        )
        assert response.status_code == 400, (action, response.status_code)
        assert "is not the id of any" in response.content.decode()
