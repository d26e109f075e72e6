"""The real release lifecycle reaches the public at once, through the cache."""

import pytest

from leaguetable import roles
from releases.services import lifecycle
from tests.factories import computed_release, user_with_role

pytestmark = pytest.mark.django_db


def test_publication_and_withdrawal_through_the_lifecycle_reach_the_public(
    client, django_capture_on_commit_callbacks
):
    analyst = user_with_role("analyst", roles.ANALYST)
    approver = user_with_role("approver", roles.APPROVER)
    release = computed_release(trust_count=8, replicates=20)
    url = release.get_absolute_url()

    assert client.get(url).status_code == 404
    assert b"No league table has been published yet" in client.get("/").content  # now cached
    lifecycle.submit(release, analyst)
    lifecycle.approve(release, approver)
    assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(release, approver)

    assert client.get(url).status_code == 200
    assert release.get_absolute_url().encode() in client.get("/").content

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.withdraw(release, approver, "The supplier found an error in its return.")
    response = client.get(url)
    assert response.status_code == 410
    assert b"The supplier found an error in its return." in response.content
    assert b"No league table has been published yet" in client.get("/").content
