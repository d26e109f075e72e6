"""Dates a regulator types in the admin fall in a sane window, and a decided freedom's terms
are changed only by someone who may decide it."""

import datetime
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.models import FreedomGrant, SupportAction, SupportPlan
from interventions.models.dates import latest_planning_date
from interventions.services import InterventionError
from interventions.services import freedoms as freedom_services
from releases.models import Release
from tests.interventions.conftest import Publish

pytestmark = pytest.mark.django_db
FAR = latest_planning_date() + datetime.timedelta(days=1)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form_data(form: forms.BaseForm) -> dict[str, str]:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[form.add_prefix(name)] = "on" if value is True else str(value)
    return data


def _change_form(client: Client, url: str) -> dict[str, str]:
    """What the admin's change page would post back unchanged, inlines included."""
    page = client.get(url)
    assert page.status_code == 200
    data = _form_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        data.update(_form_data(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(_form_data(form))
    return data


@pytest.fixture
def proposed_grant(q3_release: Release, publish: Publish) -> FreedomGrant:
    publish(q3_release)
    return FreedomGrant.objects.filter(status=FreedomGrant.Status.PROPOSED).first()


def _grant_url(grant: FreedomGrant) -> str:
    return reverse("admin:interventions_freedomgrant_change", args=[grant.pk])


BAD_GRANT_DATES = {
    "review before start": (
        {"start": "2026-06-01", "review_date": "2026-05-01"},
        "review_date",
        "must be after the start",
    ),
    "start in 1900": ({"start": "1900-01-01"}, "start", "cannot be before"),
    "review in 9999": ({"review_date": "9999-12-31"}, "review_date", "years ahead"),
    "start in 9999": ({"start": "9999-12-31"}, "start", "years ahead"),
    "review past the window": ({"review_date": FAR.isoformat()}, "review_date", "years ahead"),
}


@pytest.mark.parametrize("case", list(BAD_GRANT_DATES))
def test_a_freedoms_dates_must_be_sane(
    proposed_grant: FreedomGrant, approver: Any, case: str
) -> None:
    dates, field, reason = BAD_GRANT_DATES[case]
    client = _client(approver)
    data = _change_form(client, _grant_url(proposed_grant))
    data.update({**dates, "change_reason": "Set the dates."})

    response = client.post(_grant_url(proposed_grant), data)

    assert response.status_code == 200  # the form again, with the reason
    assert reason in " ".join(response.context["adminform"].form.errors[field])
    proposed_grant.refresh_from_db()
    assert (proposed_grant.start, proposed_grant.review_date) == (None, None)


def test_sane_freedom_dates_are_saved(proposed_grant: FreedomGrant, approver: Any) -> None:
    client = _client(approver)
    data = _change_form(client, _grant_url(proposed_grant))
    data.update(
        {"start": "2026-06-01", "review_date": "2027-06-01", "change_reason": "Set the dates."}
    )

    assert client.post(_grant_url(proposed_grant), data).status_code == 302
    proposed_grant.refresh_from_db()
    assert proposed_grant.review_date == datetime.date(2027, 6, 1)


def test_granting_refuses_a_review_date_before_the_start(
    proposed_grant: FreedomGrant, approver: Any
) -> None:
    with pytest.raises(InterventionError, match="must be after the start"):
        freedom_services.confirm_grant(
            proposed_grant,
            approver,
            "Segment 1.",
            start=timezone.localdate(),
            review_date=timezone.localdate() - datetime.timedelta(days=1),
        )
    proposed_grant.refresh_from_db()
    assert proposed_grant.status == FreedomGrant.Status.PROPOSED


@pytest.mark.parametrize("decision", ["grant", "decline"])
def test_only_someone_who_may_decide_changes_a_decided_freedoms_terms(
    proposed_grant: FreedomGrant, approver: Any, analyst: Any, decision: str
) -> None:
    decide = (
        freedom_services.confirm_grant if decision == "grant" else freedom_services.decline_grant
    )
    grant = decide(proposed_grant, approver, "Decided at the meeting.")
    before = (grant.start, grant.review_date, grant.conditions)
    new_terms = {
        "start": "2026-01-02",
        "review_date": "2026-12-31",
        "conditions": "None at all.",
        "change_reason": "Tidying up.",
    }

    analysts = _client(analyst)
    data = _change_form(analysts, _grant_url(grant))
    data.update(new_terms)
    analysts.post(_grant_url(grant), data)
    grant.refresh_from_db()
    assert (grant.start, grant.review_date, grant.conditions) == before

    approvers = _client(approver)
    data = _change_form(approvers, _grant_url(grant))
    data.update(new_terms)
    assert approvers.post(_grant_url(grant), data).status_code == 302
    grant.refresh_from_db()
    assert grant.conditions == "None at all."
    latest = grant.history.first()
    assert (latest.history_user, latest.history_change_reason) == (approver, "Tidying up.")


def _plan_url(plan: SupportPlan) -> str:
    return reverse("admin:interventions_supportplan_change", args=[plan.pk])


@pytest.mark.parametrize("year", [1900, 9999])
def test_a_plans_review_date_must_be_sane(
    active_plans: dict[str, SupportPlan], approver: Any, year: int
) -> None:
    plan = active_plans["T002"]
    before = plan.review_date
    client = _client(approver)
    data = _change_form(client, _plan_url(plan))
    data.update({"review_date": f"{year}-06-01", "change_reason": "Move the review."})

    response = client.post(_plan_url(plan), data)

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["review_date"])
    assert "cannot be before" in errors if year == 1900 else "years ahead" in errors
    plan.refresh_from_db()
    assert plan.review_date == before


@pytest.mark.parametrize("year", [1900, 9999])
def test_an_actions_due_date_must_be_sane_on_its_page_and_on_its_plans(
    active_plans: dict[str, SupportPlan], approver: Any, year: int
) -> None:
    plan = active_plans["T002"]
    action = plan.actions.get()
    before = action.due_date
    client = _client(approver)
    reason = "cannot be before" if year == 1900 else "years ahead"

    url = reverse("admin:interventions_supportaction_change", args=[action.pk])
    data = _change_form(client, url)
    data.update({"due_date": f"{year}-06-01", "change_reason": "Move it."})
    response = client.post(url, data)
    assert response.status_code == 200
    assert reason in " ".join(response.context["adminform"].form.errors["due_date"])

    data = _change_form(client, _plan_url(plan))
    data.update({"actions-0-due_date": f"{year}-06-01", "change_reason": "Move it."})
    response = client.post(_plan_url(plan), data)
    assert response.status_code == 200
    assert reason in response.content.decode()

    action.refresh_from_db()
    assert action.due_date == before
    assert SupportAction.objects.filter(plan=plan).count() == 1
