"""Bad addresses answer 400 or 404, never 500, on SQLite and PostgreSQL alike.

A NUL byte reaches PostgreSQL as "A string literal cannot contain NUL characters" (a 500);
an identifier beyond the database's integers overflows SQLite and PostgreSQL. Every case from
issue 11 is here: NUL bytes in /trusts/?q=, /compare/?trusts=, /trusts/<code>/, the trust area's
pages and its API, and oversized values in paths and query strings.
"""

from typing import Any

import pytest
from django.test import Client

from leaguetable import roles
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
LONG = "R" * 5000
NUL = "%00"

PUBLIC = [
    f"/trusts/?q={NUL}",
    f"/trusts/?q=Kent{NUL}",
    f"/trusts/?{NUL}=x",
    f"/compare/?trusts={NUL}",
    f"/compare/?trusts=T001,T002{NUL}",
    f"/compare/?trusts={'T001,' * 2000}",
    f"/trusts/T001{NUL}/",
    f"/trusts/{NUL}/",
    f"/trusts/{LONG}/",
    f"/trusts/{'T' * 900}/",
    f"/league-tables/mental-health-community/2025-26-q4/?q={NUL}",
    f"/league-tables/mental-health-community/2025-26-q4/?region={NUL}&sort={NUL}",
    f"/league-tables/mental-health-community/2025-26-q4/?q={'x' * 5000}",
    f"/league-tables/mental{NUL}/2025-26-q4/",
    f"/league-tables/mental-health-community/2025-26-q4{NUL}/",
    f"/league-tables/mental-health-community/{HUGE}-27-q4/",
    f"/league-tables/mental-health-community/2025-26-q4/revisions/{HUGE}/",
    f"/league-tables/mental-health-community/2025-26-q4/revisions/{HUGE}/league-table.csv",
    f"/league-tables/mental-health-community/2025-26-q4/league-table.csv?{NUL}",
    f"/methodology/?x={NUL}",
    f"/releases/?x={NUL}",
    f"/releases/feed.atom?x={NUL}",
    f"/sitemap.xml?x={NUL}",
    f"/{NUL}/",
    f"/{LONG}",
]
API = [
    f"/api/v1/trusts/?q={NUL}",
    f"/api/v1/trusts/?region={NUL}",
    f"/api/v1/trusts/T001{NUL}/",
    f"/api/v1/trusts/{LONG}/",
    f"/api/v1/metrics/{NUL}/",
    f"/api/v1/metrics/{HUGE}/",
    f"/api/v1/releases/{HUGE}/",
    f"/api/v1/releases/{HUGE}/rows/",
    "/api/v1/releases/-1/",
    "/api/v1/releases/1.5/",
    f"/api/v1/releases/{NUL}/",
    f"/api/v1/releases/?quarter={NUL}",
    f"/api/v1/releases/?peer_group={NUL}",
    f"/api/v1/releases/?limit={HUGE}",
    f"/api/v1/releases/?offset={HUGE}",
    "/api/v1/releases/?limit=-1",
    "/api/v1/releases/?offset=-5",
    "/api/v1/releases/?limit=abc",
    "/api/v1/releases/?limit=0",
    f"/api/v1/frameworks/{HUGE}/",
    f"/api/v1/trusts/?limit=10&offset={HUGE}",
]
TRUST_AREA = [
    f"/trust-area/T001{NUL}/",
    f"/trust-area/{NUL}/",
    f"/trust-area/{LONG}/",
    f"/trust-area/plans/{HUGE}/",
    f"/trust-area/actions/{HUGE}/",
    f"/trust-area/updates/{HUGE}/evidence/",
    f"/trust-area/T001/releases/{HUGE}/",
    f"/trust-area/?next={NUL}",
    f"/trust-area/api/trusts/T001{NUL}/",
    f"/trust-area/api/trusts/{NUL}/",
    f"/trust-area/api/trusts/T001/releases/{HUGE}/",
    f"/trust-area/api/plans/{HUGE}/",
    f"/trust-area/api/actions/{HUGE}/",
    f"/trust-area/api/actions/{HUGE}/updates/",
    f"/trust-area/login/?next={NUL}",
]
ADMIN = [
    f"/admin/metrics/observation/?q={NUL}",
    f"/admin/trusts/trust/?q={NUL}",
    f"/admin/releases/release/{HUGE}/change/",
    f"/admin/metrics/observation/{NUL}/change/",
    f"/admin/metrics/importrun/upload/{HUGE}/",
]
BAD_ADDRESSES = PUBLIC + API + TRUST_AREA + ADMIN
# Filters a page cannot use: the page is shown without them (or with no rows), never a 500.
BAD_FILTERS = [
    f"/league-tables/mental-health-community/2025-26-q4/?segment={HUGE}",
    "/league-tables/mental-health-community/2025-26-q4/?segment=-1&deficit=maybe",
    f"/league-tables/mental-health-community/2025-26-q4/?sort={'-' * 300}",
    f"/trusts/?region={HUGE}&peer_group={HUGE}",
]


@pytest.fixture
def world(published: Any) -> dict[str, Client]:
    trust = published.trust_results.select_related("trust").first().trust
    board = Client()
    board.force_login(user_with_role("board-bad-urls", roles.BOARD_MEMBER, trust=trust))
    analyst = Client()
    analyst.force_login(user_with_role("analyst-bad-urls", roles.ANALYST))
    return {"public": Client(), "board": board, "analyst": analyst}


def test_there_are_bad_addresses_of_every_kind() -> None:
    assert len(BAD_ADDRESSES) + len(BAD_FILTERS) >= 60


def problems_with(who: str, url: str, response: Any) -> str | None:
    """Why `response` is the wrong answer to a bad address, or None."""
    status = response.status_code
    if who == "analyst" and status == 302:
        # The admin's answer to an object that does not exist: back to its index, saying so.
        return None if response["Location"] == "/admin/" else f"sent to {response['Location']}"
    if status not in (400, 403, 404, 302):
        return f"answered {status}"
    if status in (302, 403) and not (who == "public" and url.startswith("/trust-area/")):
        return f"answered {status}: only the sign-in may stand in the way"
    if status == 302 and "/login/" not in response["Location"]:
        return f"sent to {response['Location']}"
    if url.startswith(("/api/", "/trust-area/api/")) and status != 302:
        if response["Content-Type"] != "application/json":
            return f"answered {response['Content-Type']}, not JSON"
        body = response.json()  # {"detail": why} or {"limit": [why]}
        if not body or not all(body.values()):
            return f"gave no reason: {body}"
    return None


def test_a_bad_address_is_a_4xx_never_a_500(world: dict[str, Client]) -> None:
    problems = []
    for url in BAD_ADDRESSES:
        for who in ["analyst"] if url.startswith("/admin/") else ["public", "board"]:
            problem = problems_with(who, url, world[who].get(url))
            if problem:
                problems.append(f"{who} {url[:120]}: {problem}")
    assert problems == []


def test_a_filter_a_page_cannot_use_is_left_out(world: dict[str, Client]) -> None:
    for url in BAD_FILTERS:
        assert world["public"].get(url).status_code in (200, 400), url
