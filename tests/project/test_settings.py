"""Settings come from the environment: embedded defaults, real services when configured."""

import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from leaguetable.settings import DEVELOPMENT_SECRET_KEY, envbool, envfloat, envint
from tests.conftest import REPO

SERVICES = (
    "from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
    "settings.CACHES['default']['BACKEND'])"
)


UNSET = "<unset>"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update(env)
    environment = {k: v for k, v in environment.items() if v != UNSET}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def deploy_check(secret_key: str) -> subprocess.CompletedProcess[str]:
    return run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="league-tables.example.org",
    )


def test_it_passes_the_deployment_checklist_with_debug_off_and_a_real_secret() -> None:
    result = deploy_check(secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("secret_key", [UNSET, "", "   ", DEVELOPMENT_SECRET_KEY])
def test_it_refuses_to_start_with_debug_off_and_no_real_secret_key(secret_key: str) -> None:
    result = deploy_check(secret_key)

    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: SECRET_KEY is not set (or is the public development key) while "
        "DEBUG is off" in result.stderr
    )
    assert "no issues" not in result.stdout


def test_it_refuses_to_start_on_a_setting_it_cannot_read() -> None:
    typo = run_manage("check", DEBUG="Ture")
    assert typo.returncode != 0
    assert "ImproperlyConfigured: DEBUG='Ture' is not a yes/no value" in typo.stderr

    hours = run_manage("check", SESSION_COOKIE_AGE="8h")
    assert hours.returncode != 0
    assert "ImproperlyConfigured: SESSION_COOKIE_AGE='8h' is not a whole number" in hours.stderr


@pytest.mark.parametrize(
    ("value", "meaning"),
    [
        *[("true", True), ("True", True), ("1", True), ("yes", True), (" on ", True)],
        *[("false", False), ("FALSE", False), ("0", False), ("no", False), ("off", False)],
    ],
)
def test_it_reads_the_usual_yes_no_words(
    monkeypatch: pytest.MonkeyPatch, value: str, meaning: bool
) -> None:
    monkeypatch.setenv("LT_TEST_FLAG", value)
    assert envbool("LT_TEST_FLAG", "False") is meaning


@pytest.mark.parametrize("value", ["Ture", "flase", "y", "2", "enabled", "True!"])
def test_it_refuses_a_yes_no_value_instead_of_guessing(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LT_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="LT_TEST_FLAG="):
        envbool("LT_TEST_FLAG", "False")


@pytest.mark.parametrize(
    ("read", "given", "read_as", "refused", "reason"),
    [
        (envint, " 300 ", 300, ("3.5", "five", "1e3", "30m"), "not a whole number"),
        (envfloat, " 0.05 ", 0.05, ("soon", "-0.1", "nan", "inf"), "not a number of seconds"),
    ],
)
def test_it_reads_numbers_and_defaults_and_refuses_the_rest(
    monkeypatch: pytest.MonkeyPatch, read, given, read_as, refused, reason
) -> None:
    monkeypatch.setenv("LT_TEST_NUMBER", given)
    assert read("LT_TEST_NUMBER", "5") == read_as
    monkeypatch.setenv("LT_TEST_NUMBER", "")
    assert read("LT_TEST_NUMBER", "5") == 5
    for bad in refused:
        monkeypatch.setenv("LT_TEST_NUMBER", bad)
        with pytest.raises(ImproperlyConfigured, match=f"LT_TEST_NUMBER=.*{reason}"):
            read("LT_TEST_NUMBER", "5")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/methodology/", "/admin/login/", "/api/docs/"])
def test_it_sends_a_content_security_policy_without_inline_code(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    # Nothing on the page would need it: no inline script or style element.
    body = response.content.decode()
    assert "<script>" not in body and "<style" not in body


def test_it_runs_on_sqlite_with_tasks_in_process_when_nothing_is_configured() -> None:
    result = run_manage(
        "shell", "-v0", "-c", SERVICES, DATABASE_URL="", CELERY_BROKER_URL="", REDIS_URL=""
    )

    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "django.core.cache.backends.locmem.LocMemCache",
    ], result.stderr


def test_it_uses_postgresql_redis_and_workers_when_configured() -> None:
    result = run_manage(
        "shell",
        "-v0",
        "-c",
        SERVICES,
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/leaguetable",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )

    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "leaguetable.cache.ResilientRedisCache",
    ], result.stderr
