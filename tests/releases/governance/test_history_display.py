"""History pages name who acted, or "system", and never call an empty field a deleted user."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from releases.models import Release
from releases.services import lifecycle

pytestmark = pytest.mark.django_db


def test_a_releases_history_shows_the_acting_user_or_system(
    release: Release, maker: Any, checker: Any
) -> None:
    lifecycle.submit(release, maker)
    lifecycle.approve(release, checker)
    lifecycle.schedule(release, checker, timezone.now() + timedelta(minutes=1))
    assert lifecycle.publish_due(timezone.now() + timedelta(minutes=2)) == 1

    client = Client()
    client.force_login(checker, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("admin:releases_release_history", args=[release.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert "Deleted user" not in body and "pk=None" not in body
    assert "system" in body  # the beat published it
    assert checker.username in body and maker.username in body
    changes = [
        change
        for record in page.context["page_obj"]
        for change in getattr(record, "history_delta_changes", [])
        if change["field"] == "Approved by"
    ]
    assert [(c["old"], c["new"]) for c in changes] == [("–", checker.username)]
