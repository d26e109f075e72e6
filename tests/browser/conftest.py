import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests after every other test.

    They need a transactional database (the live server reads it on its own connection), whose
    teardown flushes every table, the migrations' reference data included. They restore that
    data for themselves (serialized_rollback); running them last means no other transactional
    test runs after a flush it did not expect.
    """
    browser = [item for item in items if item.get_closest_marker("browser")]
    if browser:
        items[:] = [item for item in items if not item.get_closest_marker("browser")] + browser
