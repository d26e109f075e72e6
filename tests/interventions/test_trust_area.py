"""A board member sees and changes only their own trust's things, in pages, API and admin."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.models import ActionUpdate, FreedomGrant, SupportAction, SupportPlan
from interventions.services import freedoms
from leaguetable import roles
from releases.models import Release
from releases.services import lifecycle
from tests.factories import computed_release, user_with_role
from tests.interventions.conftest import Publish
from trusts.models import Trust

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def board_member(trust_a: Trust) -> Any:
    return user_with_role("board-a", roles.BOARD_MEMBER, trust=trust_a)


@pytest.fixture
def board_client(board_member: Any) -> Client:
    client = Client()
    client.force_login(board_member)
    return client


@pytest.fixture
def world(
    active_plans: dict[str, SupportPlan], q3_release: Release, approver: Any, trust_b: Trust
) -> dict[str, Any]:
    """A's and B's plans and actions, an update with evidence on B's action, B's freedoms, and
    the next quarter's table embargoed (approved, not yet published)."""
    plan_b = active_plans[trust_b.ods_code]
    action_b = plan_b.actions.get()
    update_b = ActionUpdate.objects.create(
        action=action_b,
        text="Board paper on recovery",
        author=approver,
        evidence_file=SimpleUploadedFile("b-board-paper.pdf", b"%PDF B's evidence"),
    )
    grant_b = FreedomGrant.objects.filter(trust__ods_code="T004").first()
    freedoms.confirm_grant(grant_b, approver, "Segment 1.")
    q4 = computed_release(trust_count=12, quarter_number=4, replicates=100, seed=11)
    lifecycle.submit(q4, user_with_role("analyst-2", roles.ANALYST))
    lifecycle.approve(q4, approver)
    plan_a = active_plans["T002"]
    return {
        "plan_a": plan_a,
        "action_a": plan_a.actions.get(),
        "plan_b": plan_b,
        "action_b": action_b,
        "update_b": update_b,
        "grant_b": grant_b,
        "trust_b": trust_b,
        "q3": q3_release,
        "q4": q4,
    }


def test_it_lets_a_board_member_add_progress_and_evidence_to_their_trusts_action(
    board_client: Client, board_member: Any, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    url = reverse("trust_area:action", args=[action.pk])

    page = board_client.get(url)
    assert page.status_code == 200
    assert b'<label class="nhsuk-label" for="id_text">' in page.content
    today = timezone.localdate()

    response = board_client.post(
        url,
        {
            "date_day": today.day,
            "date_month": today.month,
            "date_year": today.year,
            "text": "Recruited two crisis team nurses.",
            "evidence_file": SimpleUploadedFile("rota.pdf", b"%PDF rota"),
            "evidence_link": "https://example.org/board-papers/2026-03",
        },
    )

    assert response.status_code == 302
    update = action.updates.get()
    assert (update.author, update.text) == (board_member, "Recruited two crisis team nurses.")
    assert update.evidence_link == "https://example.org/board-papers/2026-03"
    download = board_client.get(reverse("trust_area:evidence", args=[update.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF rota"
    action.refresh_from_db()
    assert action.status == SupportAction.Status.IN_PROGRESS


def test_it_lets_a_board_member_propose_an_action_complete_and_nothing_else(
    board_client: Client, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    due, description = action.due_date, action.description

    response = board_client.post(
        reverse("trust_area:propose-complete", args=[action.pk]),
        {"note": "All posts filled; see the March board paper.", "status": "complete"},
    )

    assert response.status_code == 302
    action.refresh_from_db()
    assert action.proposed_complete is True
    assert action.status == SupportAction.Status.NOT_STARTED  # a regulator confirms
    assert (action.due_date, action.description) == (due, description)


def test_it_lets_a_board_member_add_progress_through_the_api(
    board_client: Client, world: dict[str, Any]
) -> None:
    action = world["action_a"]

    response = board_client.post(
        reverse("trust_area:api-action-updates", args=[action.pk]),
        {"text": "Waiting list validated.", "evidence_link": "https://example.org/wl"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["author"] == "board-a"
    listed = board_client.get(reverse("trust_area:api-action-updates", args=[action.pk]))
    assert [u["text"] for u in listed.json()] == ["Waiting list validated."]
    proposed = board_client.post(
        reverse("trust_area:api-action-propose-complete", args=[action.pk]),
        {"note": "Done."},
    )
    assert proposed.status_code == 200
    assert proposed.json()["proposed_complete"] is True


def test_it_shows_the_board_member_their_own_trust(
    board_client: Client, world: dict[str, Any], trust_a: Trust
) -> None:
    home = board_client.get(reverse("trust_area:home"))
    assert home.status_code == 302
    assert home.url == reverse("trust_area:trust", args=[trust_a.ods_code])

    page = board_client.get(home.url)

    assert page.status_code == 200
    assert trust_a.name.encode() in page.content
    assert b"Embargoed: not yet published" in page.content
    assert world["trust_b"].name.encode() not in page.content
    assert reverse("trust_area:plan", args=[world["plan_a"].pk]).encode() in page.content
    plan = board_client.get(reverse("trust_area:plan", args=[world["plan_a"].pk]))
    assert plan.status_code == 200
    assert b"Segment 3 or better for 2 consecutive quarters" in plan.content
    assert b'scope="col">Due</th>' in plan.content


def test_it_shows_only_the_trusts_own_row_in_an_embargoed_preview(
    board_client: Client, world: dict[str, Any], trust_a: Trust
) -> None:
    q4 = world["q4"]

    page = board_client.get(reverse("trust_area:release", args=[trust_a.ods_code, q4.pk]))
    api = board_client.get(reverse("trust_area:api-trust-release", args=[trust_a.ods_code, q4.pk]))

    assert page.status_code == 200
    assert b'id="embargo"' in page.content
    assert b"publication time has not been set yet" in page.content  # approved, not scheduled
    codes = {t.ods_code for t in Trust.objects.exclude(pk=trust_a.pk)}
    assert not any(code.encode() in page.content for code in codes)
    assert api.status_code == 200
    body = api.json()
    assert body["release"]["embargoed"] is True
    assert body["result"]["trust"] == trust_a.ods_code
    assert len(body["metrics"]) == 12
    assert not any(code in api.content.decode() for code in codes)


def test_it_shows_nothing_of_a_table_only_submitted_for_approval(
    board_client: Client, trust_a: Trust, approver: Any
) -> None:
    q1 = computed_release(trust_count=12, quarter_number=1, replicates=100, seed=12)
    lifecycle.submit(q1, user_with_role("analyst-3", roles.ANALYST))
    page = reverse("trust_area:release", args=[trust_a.ods_code, q1.pk])
    api = reverse("trust_area:api-trust-release", args=[trust_a.ods_code, q1.pk])

    overview = board_client.get(reverse("trust_area:trust", args=[trust_a.ods_code]))
    assert page.encode() not in overview.content
    assert board_client.get(page).status_code == 404
    assert board_client.get(api).status_code == 404

    lifecycle.approve(q1, approver)
    overview = board_client.get(reverse("trust_area:trust", args=[trust_a.ods_code]))
    assert page.encode() in overview.content
    assert board_client.get(page).status_code == 200
    assert board_client.get(api).json()["release"]["embargoed"] is True


def _b_requests(world: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """Every page, change and API request a board member of A could make about trust B."""
    b = world["trust_b"].ods_code
    plan, action, update = world["plan_b"].pk, world["action_b"].pk, world["update_b"].pk
    today = timezone.localdate()
    change = {
        "text": "Nothing to see",
        "date": today.isoformat(),
        "date_day": today.day,
        "date_month": today.month,
        "date_year": today.year,
        "note": "x",
    }
    return [
        ("get", reverse("trust_area:trust", args=[b]), {}),
        ("get", reverse("trust_area:release", args=[b, world["q3"].pk]), {}),
        ("get", reverse("trust_area:release", args=[b, world["q4"].pk]), {}),  # embargoed
        ("get", reverse("trust_area:plan", args=[plan]), {}),
        ("get", reverse("trust_area:action", args=[action]), {}),
        ("post", reverse("trust_area:action", args=[action]), change),
        ("post", reverse("trust_area:propose-complete", args=[action]), change),
        ("get", reverse("trust_area:evidence", args=[update]), {}),
        ("get", reverse("trust_area:api-trust", args=[b]), {}),
        ("get", reverse("trust_area:api-trust-release", args=[b, world["q3"].pk]), {}),
        ("get", reverse("trust_area:api-trust-release", args=[b, world["q4"].pk]), {}),
        ("get", reverse("trust_area:api-plan", args=[plan]), {}),
        ("get", reverse("trust_area:api-action", args=[action]), {}),
        ("patch", reverse("trust_area:api-action", args=[action]), change),
        ("put", reverse("trust_area:api-action", args=[action]), change),
        ("delete", reverse("trust_area:api-action", args=[action]), {}),
        ("get", reverse("trust_area:api-action-updates", args=[action]), {}),
        ("post", reverse("trust_area:api-action-updates", args=[action]), change),
        ("post", reverse("trust_area:api-action-propose-complete", args=[action]), change),
        ("get", reverse("admin:interventions_supportplan_change", args=[plan]), {}),
        ("post", reverse("admin:interventions_supportplan_change", args=[plan]), change),
        ("get", reverse("admin:interventions_supportplan_history", args=[plan]), {}),
        ("get", reverse("admin:interventions_supportaction_change", args=[action]), {}),
        ("post", reverse("admin:interventions_supportaction_change", args=[action]), change),
        ("get", reverse("admin:interventions_freedomgrant_change", args=[world["grant_b"].pk]), {}),
        ("get", reverse("admin:interventions_supportplan_changelist"), {}),
    ]


def _snapshot(world: dict[str, Any]) -> tuple:
    action = SupportAction.objects.get(pk=world["action_b"].pk)
    return (
        ActionUpdate.objects.filter(action=action).count(),
        action.status,
        action.proposed_complete,
        SupportPlan.history.count(),
        SupportAction.history.count(),
    )


def test_it_refuses_every_request_about_another_trust(
    board_client: Client, world: dict[str, Any]
) -> None:
    before = _snapshot(world)

    for method, url, data in _b_requests(world):
        send: Callable[..., Any] = getattr(board_client, method)
        kwargs = {"content_type": "application/json"} if method in ("put", "patch") else {}
        response = send(url, data, **kwargs)
        if url.startswith("/admin/"):
            # Board members are not staff: the admin sends them to its sign-in, which refuses
            # them (tests/project/test_trust_area_inputs.py).
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith(reverse("admin:login"))
            continue
        assert response.status_code in (403, 404), (method, url, response.status_code)

    assert _snapshot(world) == before


def test_it_refuses_another_trusts_things_even_with_admin_permissions_granted_by_mistake(
    board_client: Client, board_member: Any, world: dict[str, Any]
) -> None:
    from django.contrib.auth.models import Permission

    board_member.is_staff = True  # the mistake: staff status and admin permissions
    board_member.save(update_fields=["is_staff"])
    board_member.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="interventions",
            codename__in=["view_supportplan", "change_supportplan", "view_supportaction"],
        )
    )
    before = _snapshot(world)

    changelist = board_client.get(reverse("admin:interventions_supportplan_changelist"))
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].queryset) == [world["plan_a"]]
    changelist_url = reverse("admin:interventions_supportplan_changelist")
    for method, url, data in _b_requests(world):
        if url == changelist_url:
            continue
        kwargs = {"content_type": "application/json"} if method in ("put", "patch") else {}
        response = getattr(board_client, method)(url, data, **kwargs)
        assert response.status_code in (403, 404), (method, url, response.status_code)
    assert _snapshot(world) == before


def test_it_lists_only_the_board_members_own_trust_through_the_api(
    board_client: Client, world: dict[str, Any], trust_a: Trust
) -> None:
    plans = board_client.get(reverse("trust_area:api-plans")).json()
    grants = board_client.get(reverse("trust_area:api-freedoms")).json()
    trusts = board_client.get(reverse("trust_area:api-trusts")).json()

    assert [p["trust"] for p in plans] == [trust_a.ods_code]
    assert grants == []
    assert [t["ods_code"] for t in trusts] == [trust_a.ods_code]


def test_it_hides_proposed_plans_from_the_board(
    board_client: Client, q3_release: Release, publish: Publish, trust_a: Trust
) -> None:
    publish(q3_release)
    proposed = SupportPlan.objects.get(trust=trust_a)

    assert board_client.get(reverse("trust_area:plan", args=[proposed.pk])).status_code == 404
    assert board_client.get(reverse("trust_area:api-plans")).json() == []


def test_it_refuses_changes_to_a_closed_plans_actions(
    board_client: Client, world: dict[str, Any], approver: Any
) -> None:
    plan = world["plan_a"]
    SupportPlan.objects.filter(pk=plan.pk).update(status=SupportPlan.Status.CLOSED)

    response = board_client.post(
        reverse("trust_area:api-action-updates", args=[world["action_a"].pk]), {"text": "Late"}
    )

    assert response.status_code == 400
    assert not ActionUpdate.objects.filter(action=world["action_a"]).exists()


def test_it_asks_anonymous_visitors_to_sign_in(world: dict[str, Any], trust_a: Trust) -> None:
    client = Client()

    page = client.get(reverse("trust_area:trust", args=[trust_a.ods_code]))
    api = client.get(reverse("trust_area:api-plans"))

    assert page.status_code == 302
    assert page.url.startswith(reverse("trust_area:login") + "?next=")
    assert api.status_code == 403


def test_it_signs_a_board_member_in_and_takes_them_to_their_trust(
    board_member: Any, trust_a: Trust
) -> None:
    client = Client()

    response = client.post(
        reverse("trust_area:login"),
        {"username": "board-a", "password": "correct horse battery staple"},
        follow=True,
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("trust_area:trust", args=[trust_a.ods_code])


def test_it_keeps_board_members_out_of_the_interventions_admin(
    board_client: Client, world: dict[str, Any]
) -> None:
    urls = [
        *(
            reverse(f"admin:interventions_{name}_changelist")
            for name in ("supportplan", "supportaction", "freedomgrant")
        ),
        reverse("admin:interventions_supportplan_change", args=[world["plan_a"].pk]),
    ]
    for url in urls:
        response = board_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_it_lets_a_regulator_see_every_trust_in_the_admin(
    approver: Any, world: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(approver)
    today = timezone.localdate()
    SupportAction.objects.filter(pk=world["action_b"].pk).update(
        due_date=today - datetime.timedelta(days=1)
    )

    everything = client.get(reverse("admin:interventions_supportplan_changelist"))
    overdue = client.get(
        reverse("admin:interventions_supportplan_changelist"),
        {"overdue": "yes", "level": "targeted"},
    )
    history = client.get(
        reverse("admin:interventions_supportplan_history", args=[world["plan_b"].pk])
    )

    assert everything.status_code == 200
    change = client.get(
        reverse("admin:interventions_supportplan_change", args=[world["plan_b"].pk])
    )
    assert change.status_code == 200
    assert b"Latest evaluation" in change.content
    assert everything.context["cl"].result_count == 3
    assert list(overdue.context["cl"].queryset) == [world["plan_b"]]
    assert history.status_code == 200
    assert b"Agreed at the oversight meeting." in history.content


def test_the_forms_are_drawn_and_their_errors_shown_like_the_public_site(
    board_client: Client, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    url = reverse("trust_area:action", args=[action.pk])

    page = board_client.get(url).content.decode()
    assert 'class="nhsuk-date-input"' in page
    for part in ("day", "month", "year"):
        assert f'id="id_date_{part}"' in page and 'inputmode="numeric"' in page
    assert "For example, 15 3 2026" in page
    assert 'type="date"' not in page
    assert 'class="nhsuk-textarea"' in page

    today = timezone.localdate()
    response = board_client.post(
        url, {"date_day": today.day, "date_year": today.year, "text": "Half a date."}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert '<a href="#id_date_day">Date of the progress must include a month</a>' in body
    assert "nhsuk-form-group--error" in body
    assert not action.updates.exists()

    future = today + datetime.timedelta(days=2)
    response = board_client.post(
        url,
        {
            "date_day": future.day,
            "date_month": future.month,
            "date_year": future.year,
            "text": "Tomorrow's news.",
        },
    )
    assert response.status_code == 400
    assert b"Date of the progress must be today or in the past" in response.content

    empty = board_client.post(reverse("trust_area:propose-complete", args=[action.pk]), {})
    assert empty.status_code == 400
    assert b'<a href="#id_note">Say why the action is complete</a>' in empty.content
    action.refresh_from_db()
    assert not action.proposed_complete


def test_the_sign_in_form_says_what_went_wrong(world: dict[str, Any], board_member: Any) -> None:
    page = Client().post(
        reverse("trust_area:login"), {"username": board_member.username, "password": "wrong"}
    )

    assert page.status_code == 200
    body = page.content.decode()
    assert "There is a problem" in body
    assert "Enter a correct username and password" in body
    assert 'class="nhsuk-input' in body


def test_overdue_actions_are_marked(board_client: Client, world: dict[str, Any]) -> None:
    action = world["action_a"]
    SupportAction.objects.filter(pk=action.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=16)
    )

    plan = board_client.get(reverse("trust_area:plan", args=[world["plan_a"].pk])).content
    detail = board_client.get(reverse("trust_area:action", args=[action.pk])).content

    assert b"lt-overdue" in plan and b">Overdue</strong>" in plan
    assert b">Overdue</strong>" in detail
    SupportAction.objects.filter(pk=action.pk).update(status=SupportAction.Status.COMPLETE)
    plan = board_client.get(reverse("trust_area:plan", args=[world["plan_a"].pk])).content
    assert b">Overdue</strong>" not in plan  # a finished action is never overdue


def test_evidence_is_listed_with_its_type_and_size(
    board_client: Client, world: dict[str, Any], board_member: Any
) -> None:
    action = world["action_a"]
    ActionUpdate.objects.create(
        action=action,
        text="Workforce plan",
        author=board_member,
        evidence_file=SimpleUploadedFile("workforce-plan.xlsx", b"x" * 2048),
    )

    page = board_client.get(reverse("trust_area:action", args=[action.pk])).content.decode()

    assert "workforce-plan.xlsx" in page
    assert "(Excel spreadsheet, 2.0\xa0KB)" in page


def test_values_show_their_unit_beside_the_peer_median(
    board_client: Client, world: dict[str, Any], trust_a: Trust
) -> None:
    from releases.models import MetricPeerStatistics, MetricResult

    q3 = world["q3"]
    page = board_client.get(reverse("trust_area:release", args=[trust_a.ods_code, q3.pk]))

    lines = page.context["lines"]
    result = MetricResult.objects.filter(release=q3, trust=trust_a).select_related("metric")[0]
    median = MetricPeerStatistics.objects.get(release=q3, metric=result.metric).median
    line = next(line for line in lines if line.code == result.metric.code)
    from metrics.units import quantity

    assert line.value == quantity(result.value, result.metric.unit)
    assert line.peer_median == quantity(median, result.metric.unit)
    body = page.content.decode()
    assert "Peer median" in body and line.peer_median in body
    assert "000000" not in body  # never raw database decimals
    assert quantity(0, "%") == "0%"  # a zero is a value, not a gap


def test_a_scheduled_preview_says_when_it_will_be_published(
    board_client: Client, world: dict[str, Any], trust_a: Trust, approver: Any
) -> None:
    q4 = world["q4"]
    when = timezone.now() + datetime.timedelta(days=3)
    lifecycle.schedule(q4, approver, when)

    page = board_client.get(reverse("trust_area:release", args=[trust_a.ods_code, q4.pk]))
    local = timezone.localtime(when)
    assert f"This table will be published at <strong>{local:%H:%M} on".encode() in page.content
    overview = board_client.get(reverse("trust_area:trust", args=[trust_a.ods_code]))
    assert f"to be published at {local:%H:%M}".encode() in overview.content
