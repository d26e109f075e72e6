"""Every public page type loads every asset it asks for: real Chromium visits one of each (every
framework's league table, a superseded revision, a withdrawn table, a trust of each kind, the
search, compare, methodology, releases, feed, sitemap, the API docs, the trust area's sign-in,
the 404 and 400 pages) and collects every request that failed or answered 400 or more, every
console error and every uncaught script error. None is allowed.

Beyond what the pages happen to use, every url() in the stylesheets (the NHS.UK frontend's
icons at /assets/images/, which its CSS asks for at the site root) and every link of the site
found on those pages (downloads included) must answer.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from metrics.synthetic import load_synthetic_values
from releases.models import Release, TrustResult
from releases.services import computation
from releases.services.drafts import draft_release
from tests.browser.test_public_pages import CHROMIUM, CHROMIUM_ARGS, give_patient_feedback
from tests.factories import computed_release, make_trusts, quarter
from tests.public.conftest import correct, publish, withdraw

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def published_demo(peer_group: str) -> Release:
    """A published table of the demonstration framework of `peer_group` (synthetic values)."""
    release = draft_release(quarter(4), peer_group)
    release.replicates = 40
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return publish(release)


@pytest.fixture
def world(live_server: Any) -> dict[str, Any]:
    # Every trust's data first: a published table fixes its quarter's nationally pooled metrics.
    make_trusts(6, peer_group="acute", prefix="A")
    make_trusts(6, peer_group="ambulance", prefix="B")
    load_synthetic_values()
    withdrawn = publish(computed_release(trust_count=8, quarter_number=3, replicates=40))
    withdraw(withdrawn, "A metric was loaded for the wrong quarter.")
    first = publish(computed_release(trust_count=8, replicates=40))
    corrected = correct(first, "OF0084 was misreported by one trust.")
    tables = [corrected, published_demo("acute"), published_demo("ambulance")]
    trusts = [
        TrustResult.objects.filter(release=table).order_by("rank").first().trust for table in tables
    ]
    give_patient_feedback(trusts[0])
    first.refresh_from_db()
    return {
        "base": live_server.url,
        "tables": [table.get_absolute_url() for table in tables],
        "superseded": first.get_absolute_url(),
        "withdrawn": withdrawn.get_absolute_url(),
        "trusts": [trust.get_absolute_url() for trust in trusts],
        "codes": [trust.ods_code for trust in trusts],
        "region": trusts[0].region.slug,
    }


def public_pages(world: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(name, path, the status the page itself answers) for one of every public page type."""
    pages = [("home", "/", 200)]
    for table in world["tables"]:
        pages += [
            (f"league table {table}", table, 200),
            (
                f"league table {table}, filtered",
                f"{table}?region={world['region']}&sort=-average",
                200,
            ),
            (f"domain view {table}", table + "domains/", 200),
        ]
    pages += [
        ("superseded revision", world["superseded"], 200),
        ("superseded revision's domains", world["superseded"] + "domains/", 200),
        ("withdrawn table", world["withdrawn"], 410),
        *((f"trust {path}", path, 200) for path in world["trusts"]),
        ("trusts", "/trusts/", 200),
        ("trust search", "/trusts/?q=" + world["codes"][0].lower(), 200),
        ("trust search, nothing found", "/trusts/?q=zzzz", 200),
        ("compare", "/compare/?trusts=" + "+".join(world["codes"]), 200),
        ("compare, empty", "/compare/", 200),
        ("methodology", "/methodology/", 200),
        ("releases", "/releases/", 200),
        ("feed", "/releases/feed.atom", 200),
        ("sitemap", "/sitemap.xml", 200),
        ("API docs", "/api/docs/", 200),
        ("API", "/api/v1/releases/", 200),
        ("trust area sign-in", "/trust-area/login/", 200),
        ("not found", "/trusts/NOPE1/", 404),
        ("no such page", "/no/such/page/", 404),
        ("unreadable address", "/trusts/?q=%00", 400),
    ]
    return pages


class Watcher:
    """What went wrong while a page loaded: failed requests, answers of 400 or more, console
    errors, uncaught script errors.

    The sandbox the suite runs in has no internet, so requests to other sites (the NHS.UK
    frontend's web fonts on assets.nhs.uk) are stopped before they leave, and only their hosts
    are kept: the test checks that a page asks no other site than the policy allows.
    """

    def __init__(self, base: str) -> None:
        self.host = urlsplit(base).netloc
        self.failures: list[str] = []
        self.elsewhere: set[str] = set()

    def local(self, url: str) -> bool:
        return urlsplit(url).netloc == self.host or url.startswith(("data:", "blob:"))

    def route(self, route: Any) -> None:
        if self.local(route.request.url):
            route.continue_()
        else:
            self.elsewhere.add(urlsplit(route.request.url).netloc)
            route.abort()

    def watch(self, page: Any, name: str, url: str, expected: int) -> None:
        def response(answer: Any) -> None:
            if answer.status >= 400 and answer.url != url:
                self.failures.append(f"{name}: {answer.status} {answer.url}")

        def failed(request: Any) -> None:
            if self.local(request.url):
                self.failures.append(f"{name}: failed {request.url} ({request.failure})")

        def console(message: Any) -> None:
            where = message.location.get("url", "")
            if message.type != "error" or not self.local(where or url):
                return
            if expected >= 400 and where == url:
                return  # the browser's note of the page's own 404, 410 or 400
            if "net::ERR_FAILED" in message.text and not where:
                return  # a request to another site, stopped above
            self.failures.append(f"{name}: console {message.text} at {where}")

        page.on("response", response)
        page.on("requestfailed", failed)
        page.on("console", console)
        page.on("pageerror", lambda error: self.failures.append(f"{name}: {error}"))


def test_no_public_page_fails_to_load_anything(world: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = world["base"]
    watcher = Watcher(base)
    stylesheets: set[str] = set()
    links: set[str] = set()
    visited = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context()
        context.route("**/*", watcher.route)
        for name, path, expected in public_pages(world):
            page = context.new_page()
            watcher.watch(page, name, base + path, expected)
            response = page.goto(base + path)
            page.wait_for_load_state("networkidle")
            visited += 1
            assert response is not None and response.status == expected, (name, response)
            stylesheets.update(
                page.eval_on_selector_all("link[rel=stylesheet]", "ls => ls.map(l => l.href)")
            )
            if "html" in (response.headers.get("content-type") or ""):
                links.update(
                    href.split("#")[0]
                    for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
                    if watcher.local(href) and href.split("#")[0] != base + path
                )
            page.close()

        # Everything a stylesheet may ask for of this site, whether or not these pages used it.
        assets: set[str] = set()
        for sheet in stylesheets:
            css = context.request.get(sheet)
            assert css.ok, sheet
            assets.update(
                urljoin(sheet, ref)
                for ref in CSS_URL.findall(css.text())
                if watcher.local(urljoin(sheet, ref)) and not ref.startswith("data:")
            )
        assert any("/assets/images/nhsuk-icon-" in asset for asset in assets)
        # A link may lead to a page whose own answer is 4xx by design (a withdrawn table: 410).
        designed = {base + path: status for _, path, status in public_pages(world)}
        for target in sorted(assets | links):
            answer = context.request.get(target, max_redirects=5)
            if answer.status >= 400 and designed.get(target) != answer.status:
                watcher.failures.append(f"{answer.status} {target}")
        context.close()
        browser.close()

    assert visited == len(public_pages(world))
    assert len(links) > 30  # trusts, tables, revisions, downloads, the API and its docs
    assert watcher.failures == [], "\n".join(watcher.failures)
    assert watcher.elsewhere <= {"assets.nhs.uk"}  # the NHS.UK fonts, as the policy allows
