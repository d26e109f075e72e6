"""Which trust subtypes each metric of the default MH&C framework measures: read from NHS
England's own 2025/26 data file, installed by a data migration, kept with the framework as
data a regulator edits in the admin (with a reason, in the history)."""

import csv
import json
from collections import defaultdict
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from leaguetable import roles
from metrics import default_frameworks
from metrics.models import Framework, Metric, MetricDefinition
from tests.conftest import NOF_FILE
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MENTAL_HEALTH = "Mental Health and Learning Disability"
MH_AND_CARE = [MENTAL_HEALTH, "Care Trust"]


def reporters() -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]]]:
    """Trusts of each subtype in the file, and metric → subtype → trusts reporting it in any
    quarter (a score row counts for its metric: OF1016 for OF0016; OF1035 is a score only)."""
    by_score_code = {
        metric.score_code: metric.code
        for metric in Metric.objects.exclude(score_code="")
        if metric.score_code != metric.code
    }
    trusts: dict[str, set[str]] = defaultdict(set)
    reported: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            trusts[row["Trust_subtype"]].add(row["Trust_code"])
            if row["Value"].strip():
                code = by_score_code.get(row["Metric_ID"], row["Metric_ID"])
                reported[code][row["Trust_subtype"]].add(row["Trust_code"])
    return trusts, reported


def mh_community_definitions() -> dict[str, MetricDefinition]:
    framework = Framework.objects.get(slug=default_frameworks.FRAMEWORKS[0]["slug"], version=1)
    return {d.metric.code: d for d in framework.definitions.select_related("metric")}


def test_the_migration_installs_what_nhs_englands_file_shows() -> None:
    trusts, reported = reporters()
    assert len(trusts["Community"]) == 14 and len(trusts[MENTAL_HEALTH]) == 45
    definitions = mh_community_definitions()
    restricted = {code for code, d in definitions.items() if d.applies_to_subtypes}
    assert restricted == {"OF0016", "OF0063", "OF1035"}
    for code in sorted(restricted):
        definition = definitions[code]
        assert definition.applies_to_subtypes == MH_AND_CARE
        assert definition.not_applicable_note
        # No community trust reports it, but for the two that also run mental health services.
        assert reported[code]["Community"] <= {"R1A", "RYV"}, code
        assert "R1A" in reported[code]["Community"], code
        assert len(reported[code][MENTAL_HEALTH]) >= 44, code
    for code in sorted(set(definitions) - restricted):
        # Every other metric is reported by trusts of both main subtypes (OF1067, the CQC
        # rating, only where a recent inspection counted; the care trusts had none).
        assert len(reported[code]["Community"]) >= 3, code
        assert len(reported[code][MENTAL_HEALTH]) >= 3, code
        assert definitions[code].applies_to_subtypes == []
    # Recorded in the history, with why.
    crisis = definitions["OF0016"].history.latest()
    assert crisis.history_change_reason == default_frameworks.APPLICABILITY_REASON
    assert crisis.applies_to_subtypes == MH_AND_CARE


def test_the_migration_leaves_a_framework_a_signed_off_release_fixed() -> None:
    MetricDefinition.objects.filter(metric__code="OF0016").update(
        applies_to_subtypes=[], not_applicable_note=""
    )
    assert default_frameworks.install_applicability(apps, lambda framework: True) == 0
    assert mh_community_definitions()["OF0016"].applies_to_subtypes == []
    assert default_frameworks.install_applicability(apps, lambda framework: False) == 1
    assert mh_community_definitions()["OF0016"].applies_to_subtypes == MH_AND_CARE
    # Run again, it changes nothing a regulator has set since.
    assert default_frameworks.install_applicability(apps, lambda framework: False) == 0


def definition_form(definition: MetricDefinition, **changes: Any) -> dict[str, Any]:
    data = {
        "framework": definition.framework_id,
        "metric": definition.metric_id,
        "domain": definition.domain_id,
        "sub_domain": definition.sub_domain,
        "method": definition.method,
        "params": json.dumps(definition.params),
        "pool": definition.pool,
        "counted": "on" if definition.counted else "",
        "assumptions": definition.assumptions,
        "display_order": definition.display_order,
        "applies_to_subtypes": definition.applies_to_subtypes,
        "not_applicable_note": definition.not_applicable_note,
        "change_reason": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_a_regulator_sets_the_subtypes_in_the_admin_with_a_reason() -> None:
    client = Client()
    client.force_login(user_with_role("analyst", roles.ANALYST), backend=MODEL_BACKEND)
    definition = mh_community_definitions()["OF0057"]
    url = reverse("admin:metrics_metricdefinition_change", args=[definition.pk])

    form = client.get(url).content.decode()
    for subtype in ("Community", MENTAL_HEALTH, "Care Trust"):
        assert f'value="{subtype}"' in form
    assert 'value="Teaching"' not in form  # an acute subtype: not this framework's peer group

    misspelt = client.post(url, definition_form(definition, applies_to_subtypes=["Comunity"]))
    assert misspelt.status_code == 200
    assert "Select a valid choice. Comunity is not one of the available choices." in (
        misspelt.content.decode()
    )
    unexplained = client.post(url, definition_form(definition, applies_to_subtypes=["Community"]))
    assert "Say why you are changing this." in unexplained.content.decode()
    definition.refresh_from_db()
    assert definition.applies_to_subtypes == []

    saved = client.post(
        url,
        definition_form(
            definition,
            applies_to_subtypes=["Community"],
            not_applicable_note="an urgent community service",
            change_reason="Urgent community response is a community service",
        ),
    )
    assert saved.status_code == 302
    definition.refresh_from_db()
    assert definition.applies_to_subtypes == ["Community"]
    assert definition.history.latest().history_change_reason == (
        "Urgent community response is a community service"
    )
    listed = client.get(reverse("admin:metrics_metricdefinition_changelist")).content.decode()
    assert "Mental Health and Learning Disability, Care Trust" in listed


def test_a_subtype_the_peer_group_has_not_is_refused_on_every_path() -> None:
    definition = mh_community_definitions()["OF0057"]
    definition.applies_to_subtypes = ["Ambulance"]
    with pytest.raises(ValidationError, match="the subtypes are Care Trust, Community"):
        definition.full_clean()
    for bad in (["Community", "Community"], [" Community"], "Community", [""]):
        definition.applies_to_subtypes = bad
        with pytest.raises(ValidationError):
            definition.save()
        with pytest.raises(ValidationError):
            MetricDefinition.objects.filter(pk=definition.pk).update(applies_to_subtypes=bad)
    definition.refresh_from_db()
    assert definition.applies_to_subtypes == []
