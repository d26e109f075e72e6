"""A database connection the server dropped costs no error page: the next request reconnects.

Through the portal's real WSGI application (leaguetable.wsgi): the stored-response front, which
asks for the generation once more on a fresh connection when the first attempt finds it dropped,
then Django's handler, whose request signals run Django's connection health check
(`CONN_HEALTH_CHECKS`); the test client skips those signals, so it could not show this.
"""

from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from leaguetable.wsgi import application


def get(path: str) -> str:
    environ = {"PATH_INFO": path, "HTTP_HOST": "testserver", "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert body
    return statuses[0]


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL: SQLite has no server to drop the connection",
)
# Serialized like the suite's other transactional tests, so its flush leaves them what they expect.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_next_request_after_a_dropped_connection_reconnects():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]
    assert get("/") == "200 OK"
    backend = connection.connection.info.backend_pid  # kept between requests (CONN_MAX_AGE)

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as administrator:
        administrator.execute("SELECT pg_terminate_backend(%s)", [backend])

    assert get("/") == "200 OK"  # the stored home page, through the front's generation read
    assert connection.connection.info.backend_pid != backend

    # And a page rendered afresh after the next drop, through Django's handler.
    backend = connection.connection.info.backend_pid
    with psycopg.connect(**params, autocommit=True) as administrator:
        administrator.execute("SELECT pg_terminate_backend(%s)", [backend])
    assert get("/methodology/") == "200 OK"
    assert connection.connection.info.backend_pid != backend
