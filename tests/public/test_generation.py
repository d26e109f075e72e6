"""The publication generation, read on every public request, at the least it can cost.

On an SQLite file (the embedded default) it is worked out again after any change, by this
process or another, and only then. The suite's SQLite database lives in memory, so these tests
copy it to a file and read the generation through a second connection to that file, as a web
process does. On PostgreSQL its query is prepared once per connection.
"""

import sqlite3

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from public import caching
from releases.models import Release

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's change counter")
# Committed, so that the copy holds the published release.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(params=["delete", "wal"])
def database_file(request, tmp_path, published):
    """A file copy of the test database, in SQLite's default rollback-journal mode or in WAL."""
    path = tmp_path / "portal.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
        assert copy.execute(f"PRAGMA journal_mode={request.param}").fetchone()[0] == request.param
    web = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, alias="web")
    web.ensure_connection()
    statements: list[str] = []
    web.connection.set_trace_callback(statements.append)
    yield path, web, statements
    web.close()


def aggregates(statements: list[str]) -> int:
    return sum("UNION ALL" in statement for statement in statements)


@on_sqlite
@committed
def test_an_unchanged_database_is_not_asked_again(database_file):
    _, web, statements = database_file
    first = caching._read_generation(web)
    assert aggregates(statements) == 1
    assert all(caching._read_generation(web) == first for _ in range(5))
    assert aggregates(statements) == 1
    # In rollback-journal mode the file's header says it; in WAL mode, one pragma a request.
    wal = web.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert statements.count("PRAGMA data_version") == (6 if wal else 0)


@on_sqlite
@committed
def test_a_commit_by_another_process_changes_it_at_once(database_file, published):
    path, web, statements = database_file
    before = caching._read_generation(web)
    # A bare UPDATE by another connection, as another process (an admin, a shell) would make.
    with sqlite3.connect(path) as other:
        other.execute(
            "UPDATE releases_release SET status = ? WHERE id = ?",
            [Release.Status.WITHDRAWN, published.pk],
        )
    after = caching._read_generation(web)
    assert after != before
    assert aggregates(statements) == 2


@on_sqlite
@committed
def test_a_change_through_the_same_connection_changes_it(database_file, published):
    _, web, _ = database_file
    before = caching._read_generation(web)
    with web.cursor() as cursor:
        cursor.execute(
            "UPDATE releases_release SET status = %s WHERE id = %s",
            [Release.Status.WITHDRAWN, published.pk],
        )
    assert caching._read_generation(web) != before


@on_sqlite
@committed
def test_a_reconnection_reads_it_afresh(database_file):
    _, web, _ = database_file
    before = caching._read_generation(web)
    web.close()
    web.ensure_connection()
    statements: list[str] = []
    web.connection.set_trace_callback(statements.append)
    assert caching._read_generation(web) == before
    assert aggregates(statements) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db
def test_on_postgresql_the_query_is_planned_once_per_connection(published):
    first = caching.generation()
    assert caching.generation() == first
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert prepared == [caching._generation_sql()]
    # Django's own queries stay unprepared, as its settings say.
    assert connection.connection.prepare_threshold is None
    Release.objects.filter(pk=published.pk).update(status=Release.Status.WITHDRAWN)
    assert caching.generation() != first
