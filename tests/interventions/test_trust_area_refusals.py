# ruff: noqa: F811  (the trust area fixtures are imported from its own tests)
"""What the trust area refuses, it refuses with a page that says why, never a 500 or a bare 400."""

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.models import ActionUpdate, SupportAction, SupportPlan
from interventions.services import InterventionError, support
from tests.interventions.test_trust_area import (  # noqa: F401  (fixtures)
    board_client,
    board_member,
    private_media,
    world,
)

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999"
INT64 = "9223372036854775807"

# Which box, what is typed in it: each is a date nobody can have meant.
UNREAL_DATE_PARTS = {
    "huge day": ("day", HUGE),
    "int64 day": ("day", INT64),
    "huge month": ("month", HUGE),
    "int64 month": ("month", INT64),
    "huge year": ("year", HUGE),
    "negative day": ("day", "-1"),
    "negative month": ("month", "-12"),
    "negative year": ("year", "-2026"),
    "day 32": ("day", "32"),
    "month 13": ("month", "13"),
    "day 0": ("day", "0"),
    "three-digit day": ("day", "015"),
    "superscript day": ("day", "\u00b2"),
    "arabic-indic month": ("month", "\u0663"),
    "arabic-indic year": ("year", "\u0662\u0660\u0662\u0666"),
    "fullwidth day": ("day", "\uff11"),
    "day with a sign": ("day", "+1"),
    "two-digit year": ("year", "26"),
}


@pytest.mark.parametrize("case", list(UNREAL_DATE_PARTS))
def test_it_refuses_a_progress_date_that_is_not_a_real_date(
    board_client: Client, world: dict[str, Any], case: str
) -> None:
    part, typed = UNREAL_DATE_PARTS[case]
    action = world["action_a"]
    today = timezone.localdate()
    data = {
        "date_day": today.day,
        "date_month": today.month,
        "date_year": today.year,
        "text": "Progress.",
        f"date_{part}": typed,
    }

    response = board_client.post(reverse("trust_area:action", args=[action.pk]), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert '<a href="#id_date_day">Date of the progress must be a real date' in body
    assert not ActionUpdate.objects.filter(action=action).exists()


@pytest.mark.parametrize("date", ["2026-12-" + HUGE, "\u0662\u0660\u0662\u0666-01-05"])
def test_the_api_refuses_the_same_unreal_dates(
    board_client: Client, world: dict[str, Any], date: str
) -> None:
    action = world["action_a"]

    response = board_client.post(
        reverse("trust_area:api-action-updates", args=[action.pk]),
        {"date": date, "text": "Progress."},
    )

    assert response.status_code == 400
    assert "date" in response.json()
    assert not ActionUpdate.objects.filter(action=action).exists()


def test_a_date_in_ascii_digits_with_a_leading_zero_is_still_taken(
    board_client: Client, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    day = timezone.localdate() - datetime.timedelta(days=1)

    response = board_client.post(
        reverse("trust_area:action", args=[action.pk]),
        {
            "date_day": f"{day.day:02d}",
            "date_month": f" {day.month:02d} ",
            "date_year": str(day.year),
            "text": "Progress.",
        },
    )

    assert response.status_code == 302
    assert action.updates.get().date == day


def _evidence_gone(update: ActionUpdate) -> None:
    update.evidence_file.storage.delete(update.evidence_file.name)


def test_an_evidence_file_whose_stored_copy_is_gone_is_not_linked_and_says_so(
    board_client: Client, world: dict[str, Any], board_member: Any
) -> None:
    action = world["action_a"]
    update = ActionUpdate.objects.create(
        action=action,
        text="Workforce plan",
        author=board_member,
        evidence_file=SimpleUploadedFile("workforce-plan.pdf", b"%PDF plan"),
    )
    download = reverse("trust_area:evidence", args=[update.pk])
    _evidence_gone(update)

    page = board_client.get(reverse("trust_area:action", args=[action.pk])).content.decode()
    response = board_client.get(download)

    assert "workforce-plan.pdf" in page and "file no longer available" in page
    assert download not in page
    assert response.status_code == 410
    body = response.content.decode()
    assert "This evidence file is no longer available" in body
    assert "workforce-plan.pdf" in body
    assert 'class="ta-bar"' in body  # the trust area's own layout
    listed = board_client.get(f"/trust-area/api/actions/{action.pk}/updates/").json()
    entries = listed["results"] if isinstance(listed, dict) else listed
    (gone,) = [entry for entry in entries if entry["id"] == update.pk]
    assert gone["has_evidence_file"] is False  # the API says what the page says


def test_regulators_download_evidence_from_the_admin_through_the_checked_view(
    world: dict[str, Any], approver: Any
) -> None:
    update = world["update_b"]
    regulator = Client()
    regulator.force_login(approver)
    admin_page = reverse("admin:interventions_supportaction_change", args=[update.action_id])
    download = reverse("trust_area:evidence", args=[update.pk])

    page = regulator.get(admin_page).content.decode()
    assert f'href="{download}"' in page
    assert "/media/" not in page  # the storage itself is never served
    fetched = regulator.get(download)
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == b"%PDF B's evidence"

    _evidence_gone(update)
    page = regulator.get(admin_page).content.decode()
    assert "b-board-paper.pdf (file no longer available)" in page
    assert f'href="{download}"' not in page
    assert regulator.get(download).status_code == 410


def _finish(action: SupportAction, plan: SupportPlan, how: str) -> None:
    if how == "closed plan":
        SupportPlan.objects.filter(pk=plan.pk).update(status=SupportPlan.Status.CLOSED)
    else:
        SupportAction.objects.filter(pk=action.pk).update(status=how)


CLOSED_TO_PROGRESS = {
    SupportAction.Status.COMPLETE: "This action is already finished.",
    SupportAction.Status.CANCELLED: "This action is already finished.",
    "closed plan": "The plan is not active: its actions can no longer change.",
}


@pytest.mark.parametrize("how", list(CLOSED_TO_PROGRESS))
def test_no_progress_can_be_added_to_a_finished_action_by_any_path(
    board_client: Client,
    world: dict[str, Any],
    approver: Any,
    how: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    action, plan = world["action_a"], world["plan_a"]
    _finish(action, plan, how)
    reason = CLOSED_TO_PROGRESS[how]
    today = timezone.localdate()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        api = board_client.post(
            reverse("trust_area:api-action-updates", args=[action.pk]),
            {"text": "Late news.", "evidence_file": SimpleUploadedFile("late.pdf", b"%PDF x")},
        )
        form = board_client.post(
            reverse("trust_area:action", args=[action.pk]),
            {
                "date_day": today.day,
                "date_month": today.month,
                "date_year": today.year,
                "text": "Late news.",
                "evidence_file": SimpleUploadedFile("late.pdf", b"%PDF x"),
            },
        )
        with pytest.raises(InterventionError, match=reason):
            support.add_action_update(action, approver, "A regulator's late note.")

    assert api.status_code == 400 and reason in api.json()["detail"]
    assert form.status_code == 400
    assert reason in form.content.decode()  # said at the top: the form is not drawn
    assert "Add a progress update" not in form.content.decode()
    assert not ActionUpdate.objects.filter(action=action).exists()
    assert mail.outbox == []
    assert not (Path(settings.MEDIA_ROOT) / "evidence").exists() or not any(
        (Path(settings.MEDIA_ROOT) / "evidence").rglob("late*")
    )


def test_the_admin_refuses_a_progress_update_on_a_finished_action(
    world: dict[str, Any], approver: Any
) -> None:
    action = world["action_a"]
    _finish(action, world["plan_a"], SupportAction.Status.COMPLETE)
    regulator = Client()
    regulator.force_login(approver)
    url = reverse("admin:interventions_supportaction_change", args=[action.pk])
    form = regulator.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data.update(
        {
            "change_reason": "Late note",
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
            "updates-2-TOTAL_FORMS": "1",
            "updates-2-INITIAL_FORMS": "0",
            "updates-2-0-date": timezone.localdate().isoformat(),
            "updates-2-0-text": "A regulator's late note.",
        }
    )

    response = regulator.post(url, data)

    assert response.status_code == 200
    assert "This action is already finished." in response.content.decode()
    assert not ActionUpdate.objects.filter(action=action).exists()


def test_proposing_complete_twice_says_why_it_is_refused(
    board_client: Client, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    url = reverse("trust_area:propose-complete", args=[action.pk])
    assert board_client.post(url, {"note": "Done."}).status_code == 302

    again = board_client.post(url, {"note": "Done, really."})
    empty = board_client.post(url, {})

    for response in (again, empty):
        assert response.status_code == 400
        body = response.content.decode()
        assert "There is a problem" in body
        assert "This action has already been proposed as complete." in body
    assert action.updates.filter(proposes_complete=True).count() == 1


def test_proposing_a_finished_action_complete_says_why_it_is_refused(
    board_client: Client, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    _finish(action, world["plan_a"], SupportAction.Status.COMPLETE)

    response = board_client.post(
        reverse("trust_area:propose-complete", args=[action.pk]), {"note": "Done."}
    )

    assert response.status_code == 400
    assert "This action is already finished." in response.content.decode()
