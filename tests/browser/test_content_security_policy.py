"""The Content-Security-Policy, enforced in real Chromium: the public site (NHS.UK frontend), the
trust area, the admin and the API docs (Swagger UI from drf-spectacular's sidecar) all work
under it, and the browser reports no violation on any of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from leaguetable import roles
from releases.models import TrustResult
from releases.services import lifecycle
from tests.browser.test_public_pages import CHROMIUM, CHROMIUM_ARGS
from tests.factories import computed_release, user_with_role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Collects violations before any of the page's own code runs. Playwright's init scripts are
# not subject to the page's policy, so this watcher does not itself need an exception.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def world(live_server: Any) -> dict[str, Any]:
    analyst = user_with_role("csp-analyst", roles.ANALYST)
    approver = user_with_role("csp-approver", roles.APPROVER)
    published = computed_release(trust_count=8, replicates=40)
    lifecycle.submit(published, analyst)
    lifecycle.approve(published, approver)
    lifecycle.publish_now(published, approver)
    trust = TrustResult.objects.filter(release=published).order_by("rank").first().trust
    board_member = user_with_role("csp-board", roles.BOARD_MEMBER, trust=trust)
    superuser = user_with_role("csp-root", roles.APPROVER, is_superuser=True)
    return {
        "base": live_server.url,
        "release": published,
        "table": published.get_absolute_url(),
        "trust": trust,
        "board": session_cookie(board_member),
        "admin": session_cookie(superuser),
        "release_admin": f"/admin/releases/release/{published.pk}/change/",
    }


def visit(context: Any, url: str, ready: str) -> tuple[list[str], list[str]]:
    """Open `url`, wait until `ready` is on screen (so scripts have run), and return the
    violations the page reported and the console's CSP complaints."""
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"], url
    page.locator(ready).first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__violations")
    page.close()
    return violations, console


def test_every_kind_of_page_works_under_the_policy(world: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = world["base"]
    public = [
        ("/", "h1"),
        (world["table"], "#league-table"),
        (world["trust"].get_absolute_url(), "h1"),
        ("/methodology/", "h1"),
        (f"/compare/?trusts={world['trust'].ods_code}", "h1"),
        ("/releases/", "h1"),
        ("/trusts/", "h1"),
        # Swagger UI renders the operations from the schema only if its scripts ran.
        ("/api/docs/", ".swagger-ui .opblock"),
        ("/api/v1/releases/", "body"),
    ]
    board = [(f"/trust-area/{world['trust'].ods_code}/", "h1")]
    admin = [
        ("/admin/", "#content"),
        ("/admin/releases/release/", "#result_list"),
        (world["release_admin"], "#content"),
        ("/admin/metrics/framework/", "#result_list"),
    ]
    findings: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        for cookie, pages in ((None, public), (world["board"], board), (world["admin"], admin)):
            context = browser.new_context()
            context.add_init_script(WATCH_VIOLATIONS)
            if cookie:
                context.add_cookies(
                    [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}]
                )
            for path, ready in pages:
                violations, console = visit(context, base + path, ready)
                if violations or console:
                    findings[path] = violations + console
            context.close()
        # The NHS.UK frontend's JavaScript ran: its header menu is initialised.
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + "/")
        assert "js-enabled" in page.evaluate("document.body.className")
        context.close()
        browser.close()

    assert not findings, findings
