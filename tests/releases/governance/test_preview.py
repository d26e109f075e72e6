"""Embargoed previews for trust boards, and nothing of an unpublished release for anyone else.

The rules are `ReleaseQuerySet.previewable_by` / `visible_to_board`; the trust area reads
through them (interventions.selectors), so these tests go through both.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import Client
from django.urls import reverse

from interventions import selectors
from leaguetable.roles import BOARD_MEMBER
from releases.models import Release
from releases.services import lifecycle
from tests.factories import make_trusts, user_with_role

Status = Release.Status


@pytest.mark.parametrize("status", [Status.APPROVED, Status.SCHEDULED])
def test_it_shows_a_board_member_only_their_own_trust_under_embargo(
    release: Release, move: Callable, board_member: Any, status: str
) -> None:
    move(release, status)
    own = board_member.board_memberships.get().trust
    assert list(Release.objects.previewable_by(board_member)) == [release]
    assert list(selectors.viewable_releases(own, board_member)) == [release]
    rows = selectors.embargoed_results(own, board_member)
    assert [row.trust for row in rows] == [own]
    scores = selectors.own_metric_scores(release, own)
    assert scores
    assert {score.trust_id for score in scores} == {own.pk}


def test_it_shows_a_member_of_two_boards_both_trusts(
    release: Release, move: Callable, board_member: Any
) -> None:
    first = board_member.board_memberships.get().trust
    second = release.trust_results.exclude(trust=first).order_by("-trust__ods_code").first().trust
    board_member.board_memberships.create(trust=second)
    move(release, Status.APPROVED)
    assert list(Release.objects.previewable_by(board_member)) == [release]
    for trust in (first, second):
        assert [row.trust for row in selectors.embargoed_results(trust, board_member)] == [trust]


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.SUBMITTED, Status.PUBLISHED, Status.WITHDRAWN]
)
def test_it_offers_no_preview_of_a_release_not_under_embargo(
    release: Release, move: Callable, board_member: Any, status: str
) -> None:
    move(release, status)
    own = board_member.board_memberships.get().trust
    assert not Release.objects.previewable_by(board_member).exists()
    assert selectors.embargoed_results(own, board_member) == []
    # A published table is the board's to see like anyone's; a draft or withdrawn one is not.
    expected = [release] if status == Status.PUBLISHED else []
    assert list(selectors.viewable_releases(own, board_member)) == expected


def test_it_starts_the_preview_at_approval_not_at_submission(
    release: Release, move: Callable, board_member: Any, checker: Any
) -> None:
    own = board_member.board_memberships.get().trust
    # Submitted: the approver has not checked the numbers yet, and may return them.
    move(release, Status.SUBMITTED)
    assert not Release.objects.previewable_by(board_member).exists()
    assert selectors.embargoed_results(own, board_member) == []
    assert not selectors.viewable_releases(own, board_member).exists()

    lifecycle.approve(release, checker)
    assert list(Release.objects.previewable_by(board_member)) == [release]
    assert [row.trust for row in selectors.embargoed_results(own, board_member)] == [own]


def test_it_refuses_a_preview_to_a_board_member_of_a_trust_not_in_the_release(
    release: Release, move: Callable
) -> None:
    elsewhere = make_trusts(1, peer_group="acute", prefix="A")[0]
    outsider = user_with_role("outsider", BOARD_MEMBER, trust=elsewhere)
    move(release, Status.SCHEDULED)
    assert not Release.objects.previewable_by(outsider).exists()
    with pytest.raises(Http404):
        selectors.board_trust_or_404(outsider, release.trust_results.first().trust.ods_code)


def test_it_refuses_a_preview_to_users_without_the_preview_right(
    release: Release, move: Callable, analyst: Any
) -> None:
    move(release, Status.APPROVED)
    trust = release.trust_results.first().trust
    analyst.board_memberships.create(trust=trust)
    assert not Release.objects.previewable_by(analyst).exists()
    assert selectors.embargoed_results(trust, analyst) == []
    assert not selectors.viewable_releases(trust, analyst).exists()


def test_it_refuses_a_preview_to_an_anonymous_visitor(release: Release, move: Callable) -> None:
    move(release, Status.SCHEDULED)
    assert not Release.objects.previewable_by(AnonymousUser()).exists()


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
    # A board member is not staff: the admin sends them to sign in, as anyone else.
    member = Client()
    member.force_login(board_member, backend="django.contrib.auth.backends.ModelBackend")
    for url in urls:
        response = member.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
