"""A hand edit of a draft's input in the admin (an observation added, changed, deleted or
reverted; a deficit flag changed) recomputes the drafts of its quarter as an import does; and
until a draft is computed from the data as it is, neither the to-do list nor the review page
calls it ready to submit."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from leaguetable.workspace import regulator_todo
from metrics.models import Observation, TrustQuarterStatus
from releases.models import Release, ReleaseTransition
from releases.services import computation, lifecycle
from tests.releases.governance.test_admin import change_form_data, signed_in

Action = ReleaseTransition.Action


@pytest.fixture
def root(db: None) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw")


def current_checksum(release: Release) -> str:
    return computation.load_inputs(release).checksum


def todo(user: Any) -> dict[str, Any]:
    return {item.key: item for section in regulator_todo(user) for item in section.items}


def assert_recomputed_from_current_data(release: Release, before: str) -> None:
    release.refresh_from_db()
    assert release.computation == Release.Computation.COMPUTED
    assert release.input_checksum == current_checksum(release) != before


def first_observation(release: Release) -> Observation:
    return Observation.objects.filter(quarter=release.quarter).order_by("pk").first()


def test_changing_an_observation_recomputes_the_draft(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = release.input_checksum
    observation = first_observation(release)
    client = signed_in(analyst)
    url = reverse("admin:metrics_observation_change", args=[observation.pk])
    data = change_form_data(client.get(url))
    data.update(
        supplied_score=str(Decimal(observation.supplied_score) + Decimal("0.5")),
        value=str(observation.value + 1),
        change_reason="Resubmitted",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    assert_recomputed_from_current_data(release, before)
    assert todo(analyst)["todo-to-submit"].count == 1


def test_deleting_and_adding_an_observation_recompute_the_draft(
    release: Release, root: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(root)
    observation = first_observation(release)
    kept = {
        "trust": observation.trust_id,
        "metric": observation.metric_id,
        "quarter": observation.quarter_id,
        "value": observation.value,
        "supplied_score": observation.supplied_score,
        "reporting_period": observation.reporting_period,
    }
    before = release.input_checksum
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:metrics_observation_delete", args=[observation.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert_recomputed_from_current_data(release, before)

    before = release.input_checksum
    add_url = reverse("admin:metrics_observation_add")
    data = change_form_data(client.get(add_url))
    data.update({name: str(value) for name, value in kept.items()})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_recomputed_from_current_data(release, before)


def test_deleting_observations_from_the_list_recomputes_the_draft(
    release: Release, root: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = release.input_checksum
    pks = list(Observation.objects.filter(quarter=release.quarter).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(root).post(
            reverse("admin:metrics_observation_changelist"),
            {"action": "delete_selected", "_selected_action": pks[:2], "post": "yes"},
        )
    assert Observation.objects.filter(pk__in=pks[:2]).count() == 0
    assert_recomputed_from_current_data(release, before)


def test_changing_a_deficit_flag_recomputes_the_draft(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = release.input_checksum
    status = TrustQuarterStatus.objects.filter(quarter=release.quarter).order_by("pk").first()
    client = signed_in(analyst)
    url = reverse("admin:metrics_trustquarterstatus_change", args=[status.pk])
    data = change_form_data(client.get(url))
    data["in_financial_deficit"] = "on" if not status.in_financial_deficit else ""
    data["change_reason"] = "Deficit confirmed"
    data = {k: v for k, v in data.items() if v != ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_recomputed_from_current_data(release, before)


def test_a_draft_waiting_for_its_recomputation_is_not_called_ready(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Between the edit and the end of the recomputation (a busy or unreachable worker), the
    draft is not listed as ready and not offered for submission."""
    assert todo(analyst)["todo-to-submit"].count == 1
    observation = first_observation(release)
    client = signed_in(analyst)
    url = reverse("admin:metrics_observation_change", args=[observation.pk])
    data = change_form_data(client.get(url))
    data.update(value=str(observation.value + 1), change_reason="Resubmitted")
    data["score_still_holds"] = "on"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.post(url, data).status_code == 302
    # The signal runs; the worker it queues waits for a commit this test never makes.
    for callback in callbacks:
        callback()

    release.refresh_from_db()
    assert release.computation == Release.Computation.QUEUED
    assert "todo-to-submit" not in todo(analyst)
    assert "being computed" in lifecycle.why_not(Action.SUBMIT, release, analyst)
    review = client.get(reverse("admin:releases_release_review", args=[release.pk]))
    assert reverse("admin:releases_release_transition", args=[release.pk, "submit"]) not in (
        review.content.decode()
    )


def test_the_review_never_offers_submission_of_numbers_the_data_no_longer_gives(
    release: Release, analyst: Any
) -> None:
    # A change no admin page made (a shell): the checksum no longer matches.
    Observation.objects.filter(pk=first_observation(release).pk).update(value=Decimal("0.01"))
    review = signed_in(analyst).get(reverse("admin:releases_release_review", args=[release.pk]))
    assert reverse("admin:releases_release_transition", args=[release.pk, "submit"]) not in (
        review.content.decode()
    )


def test_reverting_an_observation_to_an_earlier_version_recomputes_the_draft(
    release: Release, root: Any, django_capture_on_commit_callbacks: Any
) -> None:
    observation = first_observation(release)
    observation._change_reason = "As submitted"
    observation.save()  # the factory's bulk insert kept no version to go back to
    version = observation.history.get()
    # An edit made outside the admin, then recomputed; the admin's revert puts the old value back.
    observation.value = observation.value + 5
    observation._change_reason = "Typo"
    observation.save()
    computation.compute(release.pk, force=True)
    release.refresh_from_db()
    before = release.input_checksum
    client = signed_in(root)
    url = reverse("admin:metrics_observation_simple_history", args=[observation.pk, version.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: getattr(value, "pk", value)
        for name in form.fields
        if (value := form.initial.get(name)) is not None
    }
    data.update(change_reason="Back to the submitted figure", score_still_holds="on")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    observation.refresh_from_db()
    assert observation.value == version.value
    assert_recomputed_from_current_data(release, before)


def test_moving_a_trust_to_another_peer_group_recomputes_the_draft(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The draft's table loses the trust at once, not at the beat's next check."""
    from trusts.models import PeerGroup, Trust

    before = release.input_checksum
    rows_before = release.trust_results.count()
    moved = Trust.objects.get(pk=release.trust_results.values_list("trust_id", flat=True)[0])
    elsewhere = PeerGroup.objects.exclude(pk=release.peer_group_id).first()
    client = signed_in(analyst)
    url = reverse("admin:trusts_trust_change", args=[moved.pk])
    data = change_form_data(client.get(url))
    data.update(peer_group=str(elsewhere.pk), change_reason="Reclassified")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_recomputed_from_current_data(release, before)
    assert release.trust_results.count() == rows_before - 1
    assert not release.trust_results.filter(trust=moved).exists()


def test_saving_a_trust_unchanged_recomputes_nothing(
    release: Release, django_capture_on_commit_callbacks: Any
) -> None:
    from trusts.models import Trust

    computed_at = release.computed_at
    trust = Trust.objects.get(pk=release.trust_results.values_list("trust_id", flat=True)[0])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        trust.save()
    assert callbacks == []
    release.refresh_from_db()
    assert release.computed_at == computed_at
