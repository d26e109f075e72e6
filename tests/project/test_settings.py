"""Settings come from the environment: embedded defaults, real services when configured."""

import os
import secrets
import subprocess
import sys

from tests.conftest import REPO

SERVICES = (
    "from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
    "settings.CACHES['default']['BACKEND'])"
)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update(env)
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


def test_it_flags_the_development_secret_when_debug_is_off() -> None:
    result = deploy_check("")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr


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
