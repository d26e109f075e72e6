"""Embargoed previews for trust boards, and nothing of an unpublished release for anyone else."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from leaguetable.roles import BOARD_MEMBER
from releases.models import Release
from releases.services.preview import preview_results_for, previewable_releases_for
from tests.factories import make_trusts, user_with_role

Status = Release.Status


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED])
def test_it_shows_a_board_member_only_their_own_trust_under_embargo(
    release: Release, move: Callable, board_member: Any, status: str
) -> None:
    move(release, status)
    own = board_member.board_memberships.get().trust
    preview = preview_results_for(board_member, release)
    assert preview.embargoed
    assert list(preview.trusts) == [own]
    assert [r.trust for r in preview.trust_results] == [own]
    assert preview.metric_results.exists()
    assert {r.trust_id for r in preview.metric_results} == {own.pk}
    assert list(previewable_releases_for(board_member)) == [release]
    if status == Status.SCHEDULED:
        assert preview.embargoed_until == release.scheduled_for


def test_it_shows_a_member_of_two_boards_both_trusts(
    release: Release, move: Callable, board_member: Any
) -> None:
    second = release.trust_results.order_by("-trust__ods_code").first().trust
    board_member.board_memberships.create(trust=second)
    move(release, Status.SUBMITTED)
    preview = preview_results_for(board_member, release)
    assert preview.trust_results.count() == 2


@pytest.mark.parametrize("status", [Status.DRAFT, Status.PUBLISHED, Status.WITHDRAWN])
def test_it_refuses_a_preview_of_a_release_not_under_embargo(
    release: Release, move: Callable, board_member: Any, status: str
) -> None:
    move(release, status)
    with pytest.raises(PermissionDenied, match="not under embargo"):
        preview_results_for(board_member, release)
    assert not previewable_releases_for(board_member).exists()


def test_it_refuses_a_preview_to_a_board_member_of_a_trust_not_in_the_release(
    release: Release, move: Callable
) -> None:
    elsewhere = make_trusts(1, peer_group="acute", prefix="A")[0]
    outsider = user_with_role("outsider", BOARD_MEMBER, trust=elsewhere)
    move(release, Status.SCHEDULED)
    with pytest.raises(PermissionDenied, match="not on the board"):
        preview_results_for(outsider, release)


def test_it_refuses_a_preview_to_users_without_the_preview_right(
    release: Release, move: Callable, analyst: Any
) -> None:
    move(release, Status.APPROVED)
    trust = release.trust_results.first().trust
    analyst.board_memberships.create(trust=trust)
    with pytest.raises(PermissionDenied, match="right to preview"):
        preview_results_for(analyst, release)


def test_it_refuses_a_preview_to_an_anonymous_visitor(release: Release, move: Callable) -> None:
    from django.contrib.auth.models import AnonymousUser

    move(release, Status.SCHEDULED)
    with pytest.raises(PermissionDenied):
        preview_results_for(AnonymousUser(), release)


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED]
)
def test_it_keeps_an_unpublished_release_out_of_the_public_queryset_and_the_admin(
    release: Release, move: Callable, board_member: Any, status: str
) -> None:
    move(release, status)
    assert not Release.objects.published().exists()
    result = release.trust_results.first()
    urls = [
        reverse("admin:releases_release_changelist"),
        reverse("admin:releases_release_change", args=[release.pk]),
        reverse("admin:releases_release_review", args=[release.pk]),
        reverse("admin:releases_trustresult_changelist"),
        reverse("admin:releases_trustresult_change", args=[result.pk]),
        reverse("admin:releases_metricresult_changelist"),
    ]
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    # A board member signs in to the admin but holds no right to see releases there.
    member = Client()
    member.force_login(board_member, backend="django.contrib.auth.backends.ModelBackend")
    for url in urls:
        assert member.get(url).status_code == 403
