"""The release pages of the admin: state shown and never edited directly, the checker's review
screen, the audit trail, progress while computing, and the regulator's to-do list."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from metrics.models import ImportRun, Observation
from releases.models import Release, ReleaseTransition
from releases.services import lifecycle
from tests.factories import PEER_GROUP, computed_release, make_observations, quarter
from tests.releases.governance.conftest import later

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def change_form_data(response: Any) -> dict[str, Any]:
    """What the browser would post back from a change page, as it was rendered."""
    data: dict[str, Any] = {}

    def put(prefix: str, form: Any) -> None:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            key = f"{prefix}{name}"
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = getattr(value, "pk", value)

    put("", response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for form in formset.forms:
            put(f"{form.prefix}-", form)
    return data


def test_it_never_lets_the_status_be_edited_and_recomputes_after_a_parameter_change(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(analyst)
    url = reverse("admin:releases_release_change", args=[release.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    data = change_form_data(page)
    data.update(seed="42", status=Status.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    release.refresh_from_db()
    assert (release.seed, release.status) == (42, Status.DRAFT)
    assert release.computation == Release.Computation.COMPUTED  # recomputed with seed 42
    assert release.history.first().seed == 42


def test_it_shows_a_release_past_draft_read_only(
    release: Release, move: Callable, analyst: Any
) -> None:
    move(release, Status.SUBMITTED)
    client = signed_in(analyst)
    url = reverse("admin:releases_release_change", args=[release.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="seed"' not in page.content.decode()
    assert client.post(url, {"seed": "42"}).status_code == 403
    release.refresh_from_db()
    assert release.seed != 42


def test_it_refuses_to_revert_a_release_to_an_earlier_version(
    release: Release, move: Callable, superuser: Any
) -> None:
    move(release, Status.PUBLISHED)
    draft_version = release.history.filter(status=Status.DRAFT).first()
    client = signed_in(superuser)
    url = reverse(
        "admin:releases_release_simple_history", args=[release.pk, draft_version.history_id]
    )
    assert client.get(url).status_code == 200
    assert client.post(url, {"seed": "42"}).status_code == 403
    release.refresh_from_db()
    assert release.status == Status.PUBLISHED


def test_it_deletes_only_a_draft_that_never_left_draft(
    release: Release, move: Callable, superuser: Any
) -> None:
    client = signed_in(superuser)
    move(release, Status.SUBMITTED)
    url = reverse("admin:releases_release_delete", args=[release.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Release.objects.filter(pk=release.pk).exists()


def test_it_refuses_to_add_a_second_release_for_a_quarter_and_peer_group(
    release: Release, analyst: Any
) -> None:
    client = signed_in(analyst)
    response = client.post(
        reverse("admin:releases_release_add"),
        {
            "quarter": release.quarter_id,
            "peer_group": release.peer_group_id,
            "framework": release.framework_id,
            "threshold_method": "quartiles",
            "replicates": "100",
            "seed": "1",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Release.objects.count() == 1


def test_it_records_the_request_id_in_the_audit_trail(release: Release, analyst: Any) -> None:
    client = signed_in(analyst)
    client.post(
        reverse("admin:releases_release_transition", args=[release.pk, "submit"]),
        {"reason": "Ready"},
        HTTP_X_REQUEST_ID="abc-123",
    )
    entry = release.transitions.get()
    assert (entry.action, entry.reason, entry.request_id) == ("submit", "Ready", "abc-123")


def test_it_explains_a_refusal_on_the_transition_page(release: Release, superuser: Any) -> None:
    lifecycle.submit(release, superuser)
    client = signed_in(superuser)
    url = reverse("admin:releases_release_transition", args=[release.pk, "approve"])
    # Not offered on the page, and refused with the reason when posted anyway.
    page = client.get(reverse("admin:releases_release_change", args=[release.pk]))
    assert url not in page.content.decode()
    response = client.post(url, {})
    assert response.status_code == 409
    assert "You submitted this release, so someone else must approve it (maker-checker)." in (
        response.content.decode()
    )


def test_it_requires_a_reason_in_the_confirmation_form(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.SUBMITTED)
    client = signed_in(approver)
    url = reverse("admin:releases_release_transition", args=[release.pk, "return"])
    assert 'name="reason"' in client.get(url).content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED


def test_it_shows_the_audit_trail(release: Release, maker: Any, checker: Any, analyst: Any) -> None:
    lifecycle.submit(release, maker)
    lifecycle.return_for_changes(release, checker, "Please check the OF0084 values")
    client = signed_in(analyst)
    page = client.get(reverse("admin:releases_release_change", args=[release.pk]))
    assert "Please check the OF0084 values" in page.content.decode()
    listing = client.get(reverse("admin:releases_releasetransition_changelist"))
    assert listing.status_code == 200
    assert "Please check the OF0084 values" in listing.content.decode()
    entry = release.transitions.latest()
    detail = reverse("admin:releases_releasetransition_change", args=[entry.pk])
    assert client.get(detail).status_code == 200
    assert client.post(detail, {"reason": "rewritten"}).status_code == 403


def test_it_shows_progress_while_computing(release: Release, analyst: Any) -> None:
    Release.objects.filter(pk=release.pk).update(
        computation=Release.Computation.RUNNING, progress=0.4, progress_message="Scoring"
    )
    client = signed_in(analyst)
    page = client.get(reverse("admin:releases_release_change", args=[release.pk]))
    assert "<progress" in page.content.decode()
    assert "40% Scoring" in page.content.decode()
    state = client.get(reverse("admin:releases_release_progress", args=[release.pk])).json()
    assert state == {
        "computation": "running",
        "computing": True,
        "progress": 0.4,
        "message": "Scoring",
        "failure": "",
    }
    listing = client.get(reverse("admin:releases_release_changelist"))
    assert "40% Scoring" in listing.content.decode()


def test_it_recomputes_a_draft_from_the_list_and_refuses_others(
    release: Release, move: Callable, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(analyst)
    computed_at = release.computed_at
    changelist = reverse("admin:releases_release_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "recompute", "_selected_action": [release.pk]})
    release.refresh_from_db()
    assert release.computed_at > computed_at
    move(release, Status.SUBMITTED)
    response = client.post(
        changelist, {"action": "recompute", "_selected_action": [release.pk]}, follow=True
    )
    assert "only a draft can be recomputed" in response.content.decode()


def test_it_offers_recompute_on_the_page_of_a_draft(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(analyst)
    url = reverse("admin:releases_release_recompute", args=[release.pk])
    page = client.get(reverse("admin:releases_release_change", args=[release.pk]))
    assert url in page.content.decode()
    assert "Recompute" in client.get(url).content.decode()  # the confirmation
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    release.refresh_from_db()
    assert release.computation == Release.Computation.COMPUTED


@pytest.fixture
def review_case(maker: Any, checker: Any) -> tuple[Release, Release, str, str]:
    """Q3 published; Q4 computed from data where one trust lost a metric and one value is wild."""
    previous = computed_release(trust_count=10, quarter_number=3, replicates=100)
    lifecycle.submit(previous, maker)
    lifecycle.approve(previous, checker)
    lifecycle.publish_now(previous, checker)
    trusts = [r.trust for r in previous.trust_results.order_by("trust__ods_code")]
    make_observations(trusts, quarter(4), seed=99)
    lost = (
        Observation.objects.filter(
            quarter=quarter(4), trust=trusts[0], supplied_score__isnull=False
        )
        .select_related("metric")
        .first()
    )
    lost.delete()
    wild = (
        Observation.objects.filter(quarter=quarter(4), trust=trusts[1], value__isnull=False)
        .select_related("metric")
        .first()
    )
    wild.value = Decimal("100000")
    wild.save()
    current = computed_release(quarter_number=4, replicates=100)
    return previous, current, lost.metric.code, wild.metric.code


def test_it_gives_the_checker_a_review_screen(
    review_case: tuple[Release, Release, str, str], approver: Any
) -> None:
    previous, current, lost_code, wild_code = review_case
    client = signed_in(approver)
    page = client.get(reverse("admin:releases_release_review", args=[current.pk]))
    assert page.status_code == 200
    review = page.context["review"]
    assert review.previous == previous
    before = {r.trust_id: r for r in previous.trust_results.all()}
    expected_changes = {
        r.trust.ods_code
        for r in current.trust_results.select_related("trust")
        if r.segment != before[r.trust_id].segment
    }
    assert {c.trust.ods_code for c in review.segment_changes} == expected_changes
    assert review.rank_movers
    assert [abs(m.places) for m in review.rank_movers] == sorted(
        (abs(m.places) for m in review.rank_movers), reverse=True
    )
    first_trust = min(r.trust.ods_code for r in current.trust_results.select_related("trust"))
    coverage = {c.trust.ods_code: c for c in review.coverage_changes}
    assert coverage[first_trust].newly_missing == [lost_code]
    completeness = {c.trust.ods_code: c for c in review.completeness}
    assert completeness[first_trust].missing == [lost_code]
    assert completeness[first_trust].percent < 100
    assert (wild_code, Decimal("100000")) in [
        (u.metric_code, u.value) for u in review.unusual_values
    ]
    assert all(not u.low <= u.value <= u.high for u in review.unusual_values)
    text = page.content.decode()
    for shown in (current.input_checksum, str(current.seed), str(current.replicates)):
        assert shown in text
    assert "Largest rank movers" in text
    assert not review.inputs_changed


def test_it_warns_the_checker_when_inputs_changed(
    release: Release, move: Callable, approver: Any
) -> None:
    move(release, Status.SUBMITTED)
    observation = Observation.objects.filter(quarter=release.quarter).first()
    observation.value = Decimal("55.5")
    observation.save()
    page = signed_in(approver).get(reverse("admin:releases_release_review", args=[release.pk]))
    assert "The inputs changed since this release was computed" in page.content.decode()


def test_it_puts_the_regulators_to_do_list_on_the_admin_front_page(
    release: Release, maker: Any, checker: Any, approver: Any, analyst: Any
) -> None:
    lifecycle.submit(release, maker)
    maker_page = signed_in(maker).get(reverse("admin:index")).content.decode()
    approver_page = signed_in(approver).get(reverse("admin:index")).content.decode()
    assert "Releases awaiting your approval" in approver_page
    assert reverse("admin:releases_release_review", args=[release.pk]) in approver_page
    assert "Releases awaiting your approval" not in maker_page  # not their role, nor their turn

    lifecycle.return_for_changes(release, checker, "Thresholds look wrong")
    maker_page = signed_in(maker).get(reverse("admin:index")).content.decode()
    assert "Releases returned to you" in maker_page
    assert "Thresholds look wrong" in maker_page
    assert (
        "Releases returned to you"
        not in signed_in(analyst).get(reverse("admin:index")).content.decode()
    )

    lifecycle.submit(release, maker)
    lifecycle.approve(release, checker)
    at = timezone.now() + timedelta(days=2)
    lifecycle.schedule(release, approver, at)
    page = signed_in(analyst).get(reverse("admin:index")).content.decode()
    assert "Scheduled publications" in page
    assert f"{timezone.localtime(at):%H:%M}" in page

    ImportRun.objects.create(
        kind=ImportRun.Kind.NOF,
        file_name="bad.csv",
        checksum="0" * 64,
        uploaded_file="imports/uploads/x/bad.csv",
        imported_by=analyst,
        status=ImportRun.Status.REJECTED,
        errors=[{"line": 3, "column": "Value", "value": "x", "reason": "not a number"}],
    )
    page = signed_in(analyst).get(reverse("admin:index")).content.decode()
    assert "Uploads with errors" in page
    assert "bad.csv" in page


def test_it_offers_each_role_only_its_list_actions(
    release: Release, analyst: Any, approver: Any
) -> None:
    def actions(user: Any) -> set[str]:
        response = signed_in(user).get(reverse("admin:releases_release_changelist"))
        return {name for name, _ in response.context["action_form"].fields["action"].choices}

    assert actions(analyst) == {"", "submit_for_approval", "recompute"}
    assert actions(approver) == {
        "",
        "approve",
        "return_for_changes",
        "schedule_publication",
        "publish_now",
        "withdraw",
    }


def test_it_reports_each_release_of_a_list_action_on_its_own(
    release: Release, approver: Any, checker: Any, maker: Any
) -> None:
    lifecycle.submit(release, maker)
    client = signed_in(approver)
    response = client.post(
        reverse("admin:releases_release_changelist"),
        {
            "action": "schedule_publication",
            "_selected_action": [release.pk],
            "post": "yes",
            "at": timezone.localtime(later()).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    text = response.content.decode()
    assert "is submitted for approval; only a release that is approved or scheduled" in text
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED
    assert not ReleaseTransition.objects.filter(action="schedule").exists()
    assert PEER_GROUP
