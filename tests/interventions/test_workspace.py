"""The admin's front page is each regulator's to-do list: counts, links to exactly those rows."""

import datetime
import re
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from interventions.models import (
    CriterionEvaluation,
    FreedomGrant,
    SupportAction,
    SupportPlan,
)
from leaguetable import roles
from leaguetable.workspace import regulator_todo
from releases.models import Release
from releases.services import lifecycle
from tests.factories import computed_release, user_with_role
from tests.interventions.conftest import Publish

pytestmark = pytest.mark.django_db


def _items(user: Any) -> dict[str, Any]:
    return {item.key: item for section in regulator_todo(user) for item in section.items}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _listed(client: Client, url: str) -> int:
    """How many rows the linked admin list shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def test_the_approver_sees_every_open_proposal_counted_with_a_link_to_exactly_those(
    q3_release: Release, publish: Publish, approver: Any
) -> None:
    publish(q3_release)
    publish(computed_release(trust_count=12, quarter_number=4, replicates=100, seed=11))

    items = _items(approver)
    proposed = FreedomGrant.objects.filter(status="proposed")
    freedoms = items["todo-proposed-freedoms"]
    assert freedoms.count == proposed.count() > 0
    trusts = proposed.values("trust").distinct().count()
    assert freedoms.detail == f"across {trusts} trust{'s' if trusts != 1 else ''}"
    plans = items["todo-proposed-plans"]
    assert plans.count == SupportPlan.objects.filter(status="proposed").count() > 0

    client = _client(approver)
    assert _listed(client, freedoms.url) == freedoms.count
    assert _listed(client, plans.url) == plans.count
    page = client.get("/admin/").content.decode()
    assert 'id="todo-proposed-freedoms"' in page and 'id="todo-proposed-plans"' in page
    assert "Nothing needs you" not in page
    # No trust has a plan proposed and freedoms proposed at once.
    assert not set(proposed.values_list("trust", flat=True)) & set(
        SupportPlan.objects.filter(status="proposed").values_list("trust", flat=True)
    )


def test_each_role_sees_only_what_it_acts_on(
    q3_release: Release, analyst: Any, approver: Any
) -> None:
    lifecycle.submit(q3_release, analyst)

    assert "todo-awaiting-approval" in _items(approver)
    analyst_items = _items(analyst)
    assert "todo-awaiting-approval" not in analyst_items
    assert "todo-proposed-freedoms" not in analyst_items
    lifecycle.return_for_changes(q3_release, approver, "Thresholds are last year's.")
    board = user_with_role("board", roles.BOARD_MEMBER)
    assert regulator_todo(board) == []
    page = _client(analyst).get("/admin/").content.decode()
    assert 'id="todo-returned"' in page and "Thresholds are last year&#x27;s." in page


def test_an_approver_is_never_asked_to_approve_their_own_submission(
    q3_release: Release, approver: Any
) -> None:
    both = user_with_role("both", roles.APPROVER)
    both.groups.add(Group.objects.get(name=roles.ANALYST))
    lifecycle.submit(q3_release, both)

    assert "todo-awaiting-approval" not in _items(both)
    assert _items(approver)["todo-awaiting-approval"].count == 1


def test_plans_actions_and_exit_criteria_waiting_for_a_decision_are_listed(
    active_plans: dict[str, SupportPlan], approver: Any, analyst: Any
) -> None:
    today = timezone.localdate()
    plan = active_plans["T002"]
    action = plan.actions.get()
    SupportAction.objects.filter(pk=action.pk).update(due_date=today - datetime.timedelta(days=3))
    other = active_plans["T011"].actions.get()
    SupportAction.objects.filter(pk=other.pk).update(proposed_complete=True)
    SupportPlan.objects.filter(pk=active_plans["T003"].pk).update(
        review_date=today - datetime.timedelta(days=1)
    )
    ready = active_plans["T011"]
    for criterion in ready.exit_criteria.all():
        CriterionEvaluation.objects.create(
            criterion=criterion, release=ready.triggered_by, met=True, summary="met"
        )

    items = _items(approver)
    client = _client(approver)
    for key in ("todo-overdue-actions", "todo-proposed-complete", "todo-plan-reviews"):
        assert items[key].count == 1, key
        assert _listed(client, items[key].url) == 1, key
    assert items["todo-overdue-actions"].detail == "in 1 plan"
    assert items["todo-exit-met"].count == 1
    response = client.get(items["todo-exit-met"].url)
    assert [p.pk for p in response.context["cl"].result_list] == [ready.pk]
    # Analysts run plans: they see what is overdue, not the decisions that are an approver's.
    analyst_items = _items(analyst)
    assert "todo-overdue-actions" in analyst_items
    assert "todo-proposed-complete" not in analyst_items


def test_an_upload_awaiting_confirmation_is_listed_for_its_uploader(
    analyst: Any, q3_release: Release
) -> None:
    from metrics.models import ImportRun

    run = ImportRun.objects.create(
        kind=ImportRun.Kind.NOF,
        file_name="nof-q4.csv",
        status=ImportRun.Status.AWAITING,
        imported_by=analyst,
        uploaded_file=SimpleUploadedFile("nof-q4.csv", b"x"),
    )

    item = _items(analyst)["todo-awaiting-uploads"]
    assert item.count == 1
    assert item.examples[0].url == f"/admin/metrics/importrun/upload/{run.pk}/"
    assert _listed(_client(analyst), item.url) == 1


def test_a_page_of_proposals_is_declined_at_once_with_one_reason(
    q3_release: Release, publish: Publish, approver: Any
) -> None:
    publish(q3_release)
    proposed = list(FreedomGrant.objects.filter(status="proposed").values_list("pk", flat=True))
    client = _client(approver)
    url = _items(approver)["todo-proposed-freedoms"].url

    asked = client.post(
        url, {"action": "action_decline", ACTION_CHECKBOX_NAME: proposed, "index": 0}
    )
    assert asked.status_code == 200
    assert f"{len(proposed)}" in asked.content.decode()
    done = client.post(
        url,
        {
            "action": "action_decline",
            ACTION_CHECKBOX_NAME: proposed,
            "post": "yes",
            "reason": "Freedoms are paused until the new framework year.",
        },
    )

    assert done.status_code == 302
    declined = FreedomGrant.objects.filter(pk__in=proposed)
    assert set(declined.values_list("status", flat=True)) == {"declined"}
    assert set(declined.values_list("status_reason", flat=True)) == {
        "Freedoms are paused until the new framework year."
    }
    assert set(declined.values_list("status_changed_by", flat=True)) == {approver.pk}
    assert "todo-proposed-freedoms" not in _items(approver)


def test_a_user_with_nothing_waiting_is_told_so(approver: Any) -> None:
    page = _client(approver).get("/admin/").content.decode()
    assert re.search(r"Nothing needs you at the moment", page)
