"""schemathesis against /api/schema/, in process through the WSGI app, with every check it has
(server errors, status codes, content types, headers, response schemas, valid data accepted and
invalid data rejected, ...), on valid and invalid requests, for every operation."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.factories import computed_release
from tests.public.conftest import correct, publish, withdraw

EXAMPLES_PER_OPERATION = 30
# The in-process WSGI transport does not decode compressed bodies as an HTTP client does.
UNCOMPRESSED = {"Accept-Encoding": "identity"}


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """As Django's test client does: the WSGI handler must not close the test's connection
    (on PostgreSQL that would end the transaction the test's data live in)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_the_api_keeps_to_its_schema(keep_test_connection):
    published = publish(computed_release(trust_count=8, replicates=20))
    correct(published, "A correction, so superseded revisions are served too.")
    withdraw(
        publish(computed_release(trust_count=8, quarter_number=3, replicates=20)),
        "Withdrawn, so the notice is served too.",
    )
    computed_release(trust_count=8, quarter_number=2, replicates=20)  # a draft

    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    statuses: list[int] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                response = case.call(headers=UNCOMPRESSED)
                statuses.append(response.status_code)
                case.validate_response(response)  # every check schemathesis has

            check()

    # Random identifiers mostly miss; the real ones are checked too, with their data.
    trust = published.trust_results.select_related("trust").first().trust
    known = [
        ("GET /api/v1/releases/{id}/", {"id": published.pk}),
        ("GET /api/v1/releases/{release_id}/rows/", {"release_id": published.pk}),
        ("GET /api/v1/releases/{release_id}/rows/", {"release_id": published.pk + 1}),
        ("GET /api/v1/trusts/{ods_code}/", {"ods_code": trust.ods_code}),
        ("GET /api/v1/metrics/{code}/", {"code": "OF0084"}),
        ("GET /api/v1/frameworks/{id}/", {"id": published.framework_id}),
    ]
    for label, parameters in known:
        operation = schema.find_operation_by_label(label)
        case = schema.make_case(operation=operation, path_parameters=parameters)
        response = case.call(headers=UNCOMPRESSED)
        statuses.append(response.status_code)
        case.validate_response(response)
    assert statuses.count(200) >= 20
