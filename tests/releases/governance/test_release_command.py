"""`manage.py release`: the same transitions for operators and automation."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from releases.models import Release, ReleaseTransition
from tests.releases.governance.conftest import later

Status = Release.Status
WHERE = ["--quarter", "Q4 2025/26", "--peer-group", "mental-health-community"]


def release_command(action: str, user: str, *extra: str) -> str:
    out = StringIO()
    call_command("release", action, *WHERE, "--user", user, *extra, stdout=out)
    return out.getvalue()


def test_it_takes_a_release_from_draft_to_published(
    release: Release, maker: Any, checker: Any
) -> None:
    assert "submitted for approval" in release_command("submit", "maker")
    assert "approved" in release_command("approve", "checker", "--reason", "Checked")
    at = timezone.localtime(later()).replace(second=0, microsecond=0)
    printed = release_command("schedule", "checker", "--at", at.strftime("%Y-%m-%dT%H:%M"))
    assert f"scheduled for {at:%Y-%m-%d %H:%M}" in printed
    release.refresh_from_db()
    assert release.scheduled_for == at
    assert "published" in release_command("publish", "checker")
    assert "withdrawn" in release_command("withdraw", "checker", "--reason", "Wrong file")
    assert list(release.transitions.values_list("action", flat=True)) == [
        "submit",
        "approve",
        "schedule",
        "publish",
        "withdraw",
    ]
    assert release.transitions.get(action="approve").reason == "Checked"


def test_it_exits_non_zero_with_the_reason_when_refused(release: Release, maker: Any) -> None:
    release_command("submit", "maker")
    with pytest.raises(CommandError, match=r"refused: You submitted this release, so someone"):
        release_command("approve", "maker")
    release.refresh_from_db()
    assert release.status == Status.SUBMITTED


def test_it_needs_a_reason_to_return(release: Release, maker: Any, checker: Any) -> None:
    release_command("submit", "maker")
    with pytest.raises(CommandError, match="needs a written reason"):
        release_command("return", "checker")
    assert "draft" in release_command("return", "checker", "--reason", "Thresholds")
    assert ReleaseTransition.objects.filter(action="return", reason="Thresholds").exists()


def test_it_needs_a_time_to_schedule(release: Release, checker: Any) -> None:
    with pytest.raises(CommandError, match="--at"):
        release_command("schedule", "checker")


def test_it_names_an_unknown_user_or_release(release: Release, maker: Any) -> None:
    with pytest.raises(CommandError, match="No user is called 'nobody'"):
        release_command("submit", "nobody")
    with pytest.raises(CommandError, match="no release of ambulance"):
        call_command(
            "release",
            "submit",
            *["--quarter", "Q4 2025/26", "--peer-group", "ambulance", "--user", "maker"],
        )
    with pytest.raises(CommandError, match="Peer group 'acutes' is unknown"):
        call_command(
            "release",
            "submit",
            *["--quarter", "Q4 2025/26", "--peer-group", "acutes", "--user", "maker"],
        )


def test_it_exits_non_zero_from_the_shell(release: Release, maker: Any) -> None:
    # A refused command ends the process with a non-zero status (CommandError → exit 1).
    with pytest.raises(SystemExit) as exit_:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "release", "publish", *WHERE, "--user", "maker"])
    assert exit_.value.code == 1
