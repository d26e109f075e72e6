# ruff: noqa: F811  (the trust area fixtures are imported from its own tests)
"""What a board member sends the trust area is checked once, the same way by the web form and
the API (interventions.evidence); the API takes the board's session and nothing else; board
members are not staff and the admin refuses them at sign-in."""

import base64
import datetime
import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.models import ActionUpdate
from leaguetable import roles
from leaguetable.management.commands import setup_demo
from tests.factories import user_with_role
from tests.interventions.test_trust_area import (  # noqa: F401  (fixtures)
    board_client,
    board_member,
    private_media,
    world,
)

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
MB = 1024 * 1024
TODAY = datetime.date.today()


def pdf(size: int) -> bytes:
    return b"%PDF-1.7\n" + b"0" * (size - 9)


# name, bytes, what the refusal must say
BAD_FILES = {
    "html": ("board-paper.html", b"<html><script>alert(1)</script></html>", "not a file type"),
    "exe": ("setup.exe", b"MZ\x90\x00" + bytes(100), "not a file type"),
    "svg": ("chart.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "not a file"),
    "no extension": ("evidence", b"%PDF-1.7 ...", "not a file type"),
    "21 MB pdf": ("big.pdf", pdf(21 * MB), "at most 20 MB"),
    "exe renamed pdf": ("minutes.pdf", b"MZ\x90\x00" + bytes(100), "does not contain"),
    "html renamed txt": ("notes.txt", b"<!DOCTYPE html><script>x</script>", "not plain text"),
    "binary renamed csv": ("data.csv", b"a,b\n\x00\x01\x02", "not plain text"),
    "html behind a byte order mark": (
        "notes.txt",
        b"\xef\xbb\xbf<html><script>alert(1)</script></html>",
        "not plain text",
    ),
    "html behind a comment": ("notes.txt", b"<!-- c --><html><script>x</script>", "not plain"),
    "body with a handler": ("notes.txt", b"<body onload=alert(1)>Minutes", "not plain text"),
    "script further down a csv": (
        "data.csv",
        b"trust,score\nT001,<script>alert(1)</script>\n",
        "not plain text",
    ),
    "image with a handler in text": (
        "notes.txt",
        b"Minutes of the board\n<img src=x onerror=alert(1)>",
        "not plain text",
    ),
    "zip renamed docx is fine, png renamed docx is not": (
        "report.docx",
        b"\x89PNG\r\n\x1a\n" + bytes(50),
        "does not contain",
    ),
    "empty pdf": ("empty.pdf", b"", "empty"),
}
BAD_DATES = {
    "2030": ("2030-01-01", "today or in the past"),
    "tomorrow": ((TODAY + datetime.timedelta(days=1)).isoformat(), "today or in the past"),
    "1999": ("1999-12-31", "before 1 January 2000"),
}


def post_api(client: Client, action: Any, data: dict) -> Any:
    return client.post(reverse("trust_area:api-action-updates", args=[action.pk]), data)


def post_form(client: Client, action: Any, data: dict) -> Any:
    """The web form takes a date as the NHS.UK date input's day, month and year boxes."""
    data = dict(data)
    if "date" in data:
        year, _, rest = data.pop("date").partition("-")
        month, _, day = rest.partition("-")
        data.update({"date_day": day, "date_month": month, "date_year": year})
    return client.post(reverse("trust_area:action", args=[action.pk]), data)


def errors_of(response: Any, via: str) -> str:
    if via == "api":
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        return str(response.json())
    assert response.status_code == 400  # the form again, with its errors
    return str(response.context["form"].errors)


@pytest.mark.parametrize("via", ["api", "form"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_the_form_and_the_api_refuse_the_same_files(
    board_client: Client, world: dict[str, Any], via: str, case: str
) -> None:
    name, content, reason = BAD_FILES[case]
    action = world["action_a"]
    send = post_api if via == "api" else post_form
    response = send(
        board_client,
        action,
        {
            "date": timezone.localdate().isoformat(),
            "text": "Evidence attached.",
            "evidence_file": SimpleUploadedFile(name, content),
        },
    )
    errors = errors_of(response, via)
    assert "evidence_file" in errors
    assert reason in errors
    assert not ActionUpdate.objects.filter(action=action).exists()


@pytest.mark.parametrize("via", ["api", "form"])
@pytest.mark.parametrize("case", list(BAD_DATES))
def test_the_form_and_the_api_refuse_the_same_dates(
    board_client: Client, world: dict[str, Any], via: str, case: str
) -> None:
    date, reason = BAD_DATES[case]
    action = world["action_a"]
    send = post_api if via == "api" else post_form
    response = send(board_client, action, {"date": date, "text": "Progress."})
    errors = errors_of(response, via)
    assert "date" in errors and reason in errors
    assert not ActionUpdate.objects.filter(action=action).exists()


@pytest.mark.parametrize("via", ["api", "form"])
def test_the_form_and_the_api_accept_the_same_good_update(
    board_client: Client, world: dict[str, Any], via: str
) -> None:
    action = world["action_a"]
    send = post_api if via == "api" else post_form
    response = send(
        board_client,
        action,
        {
            "date": timezone.localdate().isoformat(),
            "text": "Recruited two nurses.",
            "evidence_file": SimpleUploadedFile("rota.pdf", pdf(2 * MB)),
        },
    )
    assert response.status_code == (201 if via == "api" else 302)
    assert action.updates.get().evidence_file


@pytest.mark.parametrize("via", ["api", "form"])
@pytest.mark.parametrize("field", ["text", "evidence_link", "date"])
def test_a_nul_byte_in_any_field_is_refused(
    board_client: Client, world: dict[str, Any], via: str, field: str
) -> None:
    action = world["action_a"]
    data = {"date": timezone.localdate().isoformat(), "text": "Progress."}
    data[field] = data.get(field, "https://example.org/") + "\x00"
    send = post_api if via == "api" else post_form
    errors = errors_of(send(board_client, action, data), via)
    assert field in errors
    assert not ActionUpdate.objects.filter(action=action).exists()


def test_the_api_refuses_http_basic_credentials(board_member: Any, world: dict[str, Any]):
    action = world["action_a"]
    credentials = base64.b64encode(f"{board_member.username}:{PASSWORD}".encode()).decode()
    client = Client(enforce_csrf_checks=True)
    url = reverse("trust_area:api-action-updates", args=[action.pk])

    read = client.get(url, HTTP_AUTHORIZATION=f"Basic {credentials}")
    write = client.post(
        url, {"text": "Posted from another site"}, HTTP_AUTHORIZATION=f"Basic {credentials}"
    )

    assert read.status_code == write.status_code == 403
    assert "WWW-Authenticate" not in write
    assert not ActionUpdate.objects.filter(action=action).exists()


def test_the_api_refuses_a_session_write_without_its_csrf_token(
    board_member: Any, world: dict[str, Any]
) -> None:
    action = world["action_a"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(board_member)

    response = client.post(
        reverse("trust_area:api-action-updates", args=[action.pk]), {"text": "No token"}
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not ActionUpdate.objects.filter(action=action).exists()


def test_board_members_are_not_staff_and_the_admin_refuses_them_at_sign_in(
    board_member: Any,
) -> None:
    assert not board_member.is_staff
    for staff in (False, True):
        board_member.is_staff = staff  # even staff status given by mistake does not let in
        board_member.save(update_fields=["is_staff"])
        client = Client()
        response = client.post(
            reverse("admin:login"),
            {"username": board_member.username, "password": PASSWORD, "next": "/admin/"},
        )
        assert response.status_code == 200
        page = response.content.decode()
        if staff:
            assert "trust board member" in page and "/trust-area/login/" in page
        assert client.get(reverse("admin:index")).status_code == 302


def test_the_demo_board_account_is_not_staff(db: None) -> None:
    user_with_role("board", roles.BOARD_MEMBER, is_staff=True)  # as earlier demos made it
    command = setup_demo.Command(stdout=io.StringIO())

    command.create_accounts()

    users = dict(get_user_model().objects.values_list("username", "is_staff"))
    assert users == {"board": False, "analyst": True, "approver": True}


@pytest.mark.parametrize("via", ["api", "form"])
@pytest.mark.parametrize(
    "content", [b"Waiting list < 18 weeks for 92% > target", b"\xef\xbb\xbfa<b, b>c\n1,2\n"]
)
def test_the_form_and_the_api_take_plain_text_with_angle_brackets(
    board_client: Client, world: dict[str, Any], via: str, content: bytes
) -> None:
    action = world["action_a"]
    send = post_api if via == "api" else post_form
    response = send(
        board_client,
        action,
        {
            "date": timezone.localdate().isoformat(),
            "text": "Figures attached.",
            "evidence_file": SimpleUploadedFile("figures.txt", content),
        },
    )
    assert response.status_code == (201 if via == "api" else 302)


@pytest.mark.parametrize("via", ["api", "form"])
def test_the_form_and_the_api_read_a_link_without_a_scheme_alike(
    board_client: Client, world: dict[str, Any], via: str
) -> None:
    action = world["action_a"]
    send = post_api if via == "api" else post_form
    data = {"date": timezone.localdate().isoformat(), "text": "Board papers."}

    taken = send(board_client, action, {**data, "evidence_link": "www.example.com/papers"})
    refused = send(board_client, action, {**data, "evidence_link": "javascript:alert(1)"})

    assert taken.status_code == (201 if via == "api" else 302)
    assert action.updates.get().evidence_link == "https://www.example.com/papers"
    assert "evidence_link" in errors_of(refused, via)
    assert action.updates.count() == 1
