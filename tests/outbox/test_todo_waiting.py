"""Work stuck behind an unreachable broker is on the to-do list: every regulator sees the
tasks waiting for the queue, and an analyst still sees the upload they confirmed until it is
imported."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from leaguetable import roles
from leaguetable.workspace import regulator_todo
from metrics.models import ImportRun
from releases import tasks
from tests.factories import user_with_role
from tests.outbox.test_outbox import broker_down  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def todo(user: Any) -> dict[str, Any]:
    return {item.key: item for section in regulator_todo(user) for item in section.items}


@pytest.mark.usefixtures("broker_down")
def test_every_regulator_sees_the_tasks_waiting_for_the_queue(client: Any) -> None:
    tasks.compute_release.delay(41)
    approver = user_with_role("approver", roles.APPROVER)
    analyst = user_with_role("analyst", roles.ANALYST)

    for user in (approver, analyst):
        item = todo(user)["todo-unqueued-tasks"]
        assert item.count == 1
        assert item.examples[0].text == "releases.tasks.compute_release(41)"
    client.force_login(approver)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Tasks waiting for the queue (the task broker did not answer)" in page
    assert "todo-unqueued-tasks" not in todo(AnonymousUser())


def test_a_confirmed_upload_stays_on_the_analysts_to_do_until_imported() -> None:
    analyst = user_with_role("analyst", roles.ANALYST)
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.NOF,
        file_name="nof-q4.csv",
        checksum="0" * 64,
        uploaded_file="imports/uploads/x/nof-q4.csv",
        imported_by=analyst,
        status=ImportRun.Status.QUEUED,
    )
    item = todo(analyst)["todo-queued-uploads"]
    assert (item.count, item.examples[0].text) == (1, "nof-q4.csv")

    run.status = ImportRun.Status.IMPORTED
    run.save()
    assert "todo-queued-uploads" not in todo(analyst)
