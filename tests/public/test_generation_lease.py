"""The generation's lease (public.caching.GenerationLease): a web process asks the database for
the publication generation at most once per lease, and still no request after a publication or
withdrawal has reported done is answered with what the public could see before it."""

import threading
import time

import pytest

from public import caching
from releases.services import lifecycle
from tests.factories import approved_release, computed_release
from tests.project.test_settings import run_manage
from tests.public.conftest import publish, set_status

pytestmark = pytest.mark.django_db

LEASE = 0.3


@pytest.fixture
def leased(settings):
    settings.PUBLIC_GENERATION_LEASE = LEASE
    caching.lease.forget()
    yield
    caching.lease.forget()


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The generation's reads from the database, as they happen."""
    seen: list[str] = []
    real = caching._read_generation

    def counted(database) -> str:
        value = real(database)
        seen.append(value)
        return value

    monkeypatch.setattr(caching, "_read_generation", counted)
    return seen


def test_within_the_lease_stored_pages_are_answered_without_asking_the_database(
    leased, reads, client
):
    release = publish(computed_release(trust_count=6, replicates=20))
    url = release.get_absolute_url()
    assert client.get(url).status_code == 200
    for _ in range(5):
        assert client.get(url).status_code == 200
    assert len(reads) == 1
    time.sleep(LEASE)
    client.get(url)
    assert len(reads) == 2  # asked again once the lease ran out


def test_a_withdrawal_reports_done_only_when_no_process_can_still_show_the_table(
    leased, client, django_capture_on_commit_callbacks
):
    release, approver = approved_release(trust_count=6, replicates=20)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(release, approver)
    assert time.monotonic() - started >= LEASE
    url = release.get_absolute_url()
    assert client.get(url).status_code == 200  # the generation is now trusted for a lease

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.withdraw(release, approver, "The supplier found an error in its return.")
    assert time.monotonic() - started >= LEASE
    response = client.get(url)
    assert response.status_code == 410
    assert b"The supplier found an error in its return." in response.content


def test_a_change_made_by_hand_is_seen_once_the_lease_has_run_out(leased, client):
    release = publish(computed_release(trust_count=6, replicates=20))
    url = release.get_absolute_url()
    assert client.get(url).status_code == 200
    set_status(release, "withdrawn")  # no lifecycle, no signal: as SQL typed by hand
    time.sleep(LEASE)
    assert client.get(url).status_code == 410


def test_an_older_read_that_finishes_last_never_replaces_a_newer_one(leased):
    lease = caching.GenerationLease()
    slow_may_finish = threading.Event()
    answers: list[str] = []

    def slow_read() -> str:
        slow_may_finish.wait(5)
        return "before the withdrawal"

    slow = threading.Thread(target=lambda: answers.append(lease.get(slow_read)))
    slow.start()
    time.sleep(0.02)  # the slow read was sent first
    assert lease.get(lambda: "after the withdrawal") == "after the withdrawal"
    slow_may_finish.set()
    slow.join(5)
    assert answers == ["before the withdrawal"]  # its own request used what it read
    assert lease.get(lambda: "never asked") == "after the withdrawal"


def test_without_a_lease_every_request_asks(settings, reads, client):
    settings.PUBLIC_GENERATION_LEASE = 0
    release = publish(computed_release(trust_count=6, replicates=20))
    for _ in range(3):
        client.get(release.get_absolute_url())
    assert len(reads) == 3


LEASE_SETTING = "from django.conf import settings; print(settings.PUBLIC_GENERATION_LEASE)"


def test_the_lease_is_on_for_postgresql_off_for_an_sqlite_file_and_never_long():
    postgresql = run_manage("shell", "-c", LEASE_SETTING, DATABASE_URL="postgresql://u@h/db")
    assert postgresql.stdout.splitlines()[-1] == "0.02", postgresql.stderr
    sqlite = run_manage("shell", "-c", LEASE_SETTING, DATABASE_URL="")
    assert sqlite.stdout.splitlines()[-1] == "0.0", sqlite.stderr
    # Every publication and withdrawal waits the lease before it reports done.
    too_long = run_manage("check", PUBLIC_GENERATION_LEASE="2")
    assert too_long.returncode != 0
    assert "PUBLIC_GENERATION_LEASE=2.0 is too long" in too_long.stderr
