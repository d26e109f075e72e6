"""Scoring-method parameters are checked when a definition is saved (admin, code, bulk update,
data migration), never discovered as a KeyError when a release is computed."""

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from metrics import default_frameworks
from metrics.models import Framework, MetricDefinition
from metrics.scoring_params import params_problems
from releases.services import computation
from tests.factories import computed_release

pytestmark = pytest.mark.django_db

BANDS = {"bands": [{"min": 95, "score": 1}, {"min": 90, "score": 2}, {"min": None, "score": 4}]}


@pytest.mark.parametrize(
    ("method", "params", "reason"),
    [
        ("banded", {}, 'The banded method needs "bands"'),
        ("banded", {"bands": []}, "at least one band"),
        ("banded", {"bands": [{"min": 1}]}, 'band 1 has no "score"'),
        ("banded", {"bands": [{"min": "high", "score": 1}]}, "min 'high' is not a number"),
        ("banded", {"bands": [{"min": 5, "max": 1, "score": 1}]}, "min 5 is above max 1"),
        ("banded", {"bands": [{"score": 7}]}, "outside 1 to 4"),
        ("banded", {"bands": [{"score": True}]}, "not a number"),
        ("banded", {"bands": [{"score": float("nan")}]}, "not a number"),
        ("banded", {"bands": [{"score": 1, "minimum": 3}]}, "unknown keys minimum"),
        ("banded", {"band": [{"score": 1}]}, "Unknown parameters for the banded method: band"),
        ("lookup", {"inputs": ["OF0079"]}, 'needs "table"'),
        ("lookup", {"inputs": "OF0079", "table": {"1": 1}}, '"inputs" must be a list'),
        ("lookup", {"inputs": ["OF0079", "OF0079"], "table": {"1,1": 1}}, "names a metric twice"),
        ("lookup", {"inputs": ["NOPE"], "table": {"1": 1}}, "unknown metrics: NOPE"),
        ("lookup", {"inputs": ["OF0079", "OF0081"], "table": {"1": 1}}, "needs 2 comma-separated"),
        ("lookup", {"inputs": ["OF0079", "OF0081"], "table": {"a,b": 1}}, "must be numbers"),
        ("lookup", {"inputs": ["OF0079", "OF0081"], "table": {}}, '"table" must map'),
        ("categorical", {}, 'needs "categories"'),
        ("categorical", {"categories": {"Good": "two"}}, "'two' is not a number"),
        ("categorical", {"categories": []}, '"categories" must map'),
        ("ranked", {"bands": []}, "it takes no parameters"),
        ("supplied", [], "must be a JSON object"),
        ("magic", {}, "Unknown scoring method 'magic'"),
    ],
)
def test_it_names_what_is_wrong_with_the_parameters(method: str, params: Any, reason: str) -> None:
    problems = params_problems(method, params, {"OF0079", "OF0081"})
    assert any(reason in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("banded", BANDS),
        ("banded", {"bands": [{"max": 2, "score": 1}, {"min": None, "max": None, "score": 4}]}),
        ("lookup", {"inputs": ["OF0079", "OF0081"], "table": {"1,1": 1, "2.5,4": 3.25}}),
        ("categorical", {"categories": {"Outstanding": 1, "Inadequate": 4}}),
        ("ranked", {}),
        ("supplied", {}),
    ],
)
def test_it_accepts_what_the_engine_can_use(method: str, params: Any) -> None:
    assert params_problems(method, params, {"OF0079", "OF0081"}) == []


def test_every_installed_definition_is_valid() -> None:
    assert MetricDefinition.objects.exists()
    for definition in MetricDefinition.objects.select_related("metric"):
        definition.validate_before_save()


def test_it_refuses_a_banded_metric_without_bands_on_save_and_on_bulk_update() -> None:
    draft = Framework.objects.create(
        slug="draft-test", name="Draft", peer_group=Framework.objects.first().peer_group
    )
    domain = draft.domains.create(slug="access", name="Access")
    template = MetricDefinition.objects.select_related("metric").first()
    definition = MetricDefinition(
        framework=draft, metric=template.metric, domain=domain, method="banded", params={}
    )
    with pytest.raises(ValidationError) as refused:
        definition.save()
    message = refused.value.message_dict["params"][0]
    assert message.startswith(f'{template.metric.code}: The banded method needs "bands"')
    assert not MetricDefinition.objects.filter(framework=draft).exists()

    definition.params = BANDS
    definition.save()
    with pytest.raises(ValidationError, match='needs "bands"'):
        MetricDefinition.objects.filter(pk=definition.pk).update(params={"levels": []})
    definition.refresh_from_db()
    assert definition.params == BANDS


def test_it_refuses_a_banded_metric_without_bands_in_the_admin(client: Any) -> None:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests")
    client.force_login(user)
    draft = Framework.objects.create(
        slug="draft-admin", name="Draft", peer_group=Framework.objects.first().peer_group
    )
    domain = draft.domains.create(slug="access", name="Access")
    metric = MetricDefinition.objects.select_related("metric").first().metric
    form = {
        "framework": draft.pk,
        "metric": metric.pk,
        "domain": domain.pk,
        "sub_domain": "",
        "method": "banded",
        "params": "{}",
        "pool": "peer",
        "counted": "on",
        "assumptions": "",
        "display_order": 0,
    }

    response = client.post(reverse("admin:metrics_metricdefinition_add"), form)

    assert response.status_code == 200
    assert "The banded method needs &quot;bands&quot;" in response.content.decode()
    assert not MetricDefinition.objects.filter(framework=draft).exists()
    response = client.post(
        reverse("admin:metrics_metricdefinition_add"), {**form, "params": json.dumps(BANDS)}
    )
    assert response.status_code == 302
    assert MetricDefinition.objects.filter(framework=draft).count() == 1


def test_the_data_migration_refuses_a_definition_the_engine_cannot_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = json.loads(json.dumps(default_frameworks.FRAMEWORKS[0], default=str))
    spec["slug"] = "broken-framework"
    spec["definitions"][0] = {**spec["definitions"][0], "method": "banded", "params": {}}
    monkeypatch.setattr(default_frameworks, "FRAMEWORKS", [spec])
    from django.apps import apps

    with pytest.raises(ValidationError, match='needs "bands"'):
        default_frameworks.install(apps)


def test_a_definition_written_behind_the_models_back_fails_the_computation_with_its_reason() -> (
    None
):
    release = computed_release(trust_count=6, replicates=20)
    definition = release.framework.definitions.select_related("metric").first()
    # Raw SQL, as a hand-edited database would: nothing else gets past the models.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {MetricDefinition._meta.db_table} SET method = 'banded', params = '{{}}' "
            "WHERE id = %s",
            [definition.pk],
        )

    with pytest.raises(computation.ReleaseNotComputable, match='needs "bands"'):
        computation.compute(release.pk, force=True)

    release.refresh_from_db()
    assert release.computation == release.Computation.FAILED
    assert definition.metric.code in release.failure_reason
    assert "KeyError" not in release.failure_reason
