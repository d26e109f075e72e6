"""An admin that fits the job: the portal's own header, and only sensible choices offered."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from interventions.models import ExitCriterion, SupportPlan
from leaguetable import roles
from metrics.models import Metric
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_carries_the_portals_own_name(approver: Any) -> None:
    page = _client(approver).get(reverse("admin:index")).content.decode()

    assert "NHS trust league tables: regulators" in page
    assert "<title>Your to-do list and the quarter&#x27;s data | League tables regulators" in page
    assert "Django administration" not in page and "Django site admin" not in page


def test_a_plans_regulator_lead_is_chosen_from_regulators_only(
    active_plans: dict[str, SupportPlan], approver: Any, analyst: Any, trust_a: Any
) -> None:
    board = user_with_role("board-a", roles.BOARD_MEMBER, trust=trust_a)
    inactive = user_with_role("left", roles.ANALYST, is_active=False)
    plan = active_plans["T002"]

    response = _client(approver).get(
        reverse("admin:interventions_supportplan_change", args=[plan.pk])
    )

    choices = set(response.context["adminform"].form.fields["regulator_lead"].queryset)
    assert {analyst, approver} <= choices
    assert board not in choices and inactive not in choices


def test_exit_criteria_offer_only_the_plans_framework_metrics(
    active_plans: dict[str, SupportPlan], approver: Any
) -> None:
    plan = active_plans["T002"]
    framework = plan.triggered_by.framework
    own = set(Metric.objects.filter(definitions__framework=framework))
    others = set(Metric.objects.exclude(definitions__framework=framework))
    assert own and others  # the acute and ambulance frameworks' metrics exist too

    response = _client(approver).get(
        reverse("admin:interventions_supportplan_change", args=[plan.pk])
    )

    [criteria] = [
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is ExitCriterion
    ]
    offered = set(criteria.formset.empty_form.fields["metric"].queryset)
    assert offered == own
    with pytest.raises(ValidationError, match="is not a metric of"):
        ExitCriterion(
            plan=plan,
            kind=ExitCriterion.Kind.METRIC_SCORE,
            metric=next(iter(others)),
            threshold=2,
        ).full_clean()
