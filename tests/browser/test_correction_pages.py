"""A correction's review and its public note in Debian's Chromium, at 1280 px and on a 390 px
phone: nothing cut off or scrolling sideways, and the public pages pass axe-core's WCAG 2.2 AA.

Everything touching the database happens before the browser starts, since Playwright's event
loop would make Django refuse ORM calls in between.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connections

from leaguetable import roles
from metrics.models import Observation
from releases.models import Release
from releases.services import lifecycle
from releases.services.computation import compute
from tests.browser.test_public_pages import AXE, CHROMIUM, CHROMIUM_ARGS, audit
from tests.factories import computed_release, user_with_role

PASSWORD = "correct horse battery staple"
WIDTHS = (1280, 390)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Elements inside `root` that end past the viewport's right edge, or scroll sideways.
OVERFLOW_IN = """(root) => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll(root + ', ' + root + ' *')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    const style = getComputedStyle(el);
    if (style.clip !== 'auto' || style.position === 'absolute') continue;
    if (box.right > width + 1) out.push(`${el.tagName}.${el.className} ends at ${box.right}`);
    if (el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(style.overflowX))
      out.push(`${el.tagName}.${el.className} scrolls`);
  }
  return out.slice(0, 8);
}"""


@pytest.fixture
def submitted_correction(db: None) -> tuple[Release, Any, Any]:
    """A published table of ten trusts whose top trust is corrected to the worst scores, so
    its values, scores, segment and rank change, and most other trusts' ranks too."""
    maker = user_with_role("maker", roles.ANALYST)
    checker = user_with_role("checker", roles.APPROVER)
    release = computed_release(trust_count=10, replicates=50)
    lifecycle.submit(release, maker)
    lifecycle.approve(release, checker)
    lifecycle.publish_now(release, checker)
    correction = lifecycle.start_correction(
        release, maker, "The top trust's scores were misreported: NHS England rescored them all 4."
    )
    top = release.trust_results.order_by("rank").first().trust
    Observation.objects.filter(
        quarter=release.quarter, trust=top, supplied_score__isnull=False
    ).update(supplied_score=Decimal(4))
    compute(correction.pk)
    correction.refresh_from_db()
    lifecycle.submit(correction, maker)
    return correction, checker, top


@pytest.fixture
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        connections.close_all()
        browser.close()


def test_the_review_of_a_correction_fits_a_laptop_and_a_phone(
    live_server: Any, submitted_correction: tuple[Release, Any, Any], browser: Any
) -> None:
    correction, checker, top = submitted_correction
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", checker.username)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form:has(input[name=password]) [type=submit]").click()
        page.goto(f"{live_server.url}/admin/releases/release/{correction.pk}/review/")
        section = page.locator("#review-correction")
        text = section.inner_text()
        assert "Reason for the correction" in text
        assert "The top trust's scores were misreported" in text
        assert f"({top.ods_code})" in text
        assert page.evaluate(OVERFLOW_IN, "#review-correction") == [], width
        if width == 390:
            # Each figure is read under its column's name, never split across lines.
            cell = section.locator("td[data-label='Score after']").first
            label = cell.evaluate("td => getComputedStyle(td, '::before').content")
            assert label == '"Score after"'
            assert cell.evaluate("td => td.getBoundingClientRect().height") < 40
        page.close()


@pytest.fixture
def published_correction(
    submitted_correction: tuple[Release, Any, Any], django_capture_on_commit_callbacks: Any
) -> tuple[list[str], str]:
    """The pages showing its note (addresses worked out now: no ORM once the browser runs)."""
    correction, checker, top = submitted_correction
    lifecycle.approve(correction, checker)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(correction, checker)
    return [correction.get_absolute_url(), f"/trusts/{top.ods_code}/", "/releases/"], top.ods_code


def test_the_public_correction_note_fits_and_passes_axe(
    live_server: Any, published_correction: tuple[list[str], str], browser: Any
) -> None:
    assert AXE.exists(), "npm install puts axe-core in node_modules"
    paths, code = published_correction
    for width in WIDTHS:
        # axe-core is injected as a script, which the pages' CSP rightly refuses.
        page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
        for path in paths:
            page.goto(live_server.url + path)
            note = page.locator(".lt-changes").first
            assert note.inner_text().startswith("What changed since revision 1:"), path
            listed = page.locator(".lt-changes + ul li").all_inner_texts()
            assert any(f"({code}): " in item for item in listed), path
            assert not any(item.startswith("-") for item in listed), path
            width_used = page.evaluate("() => document.documentElement.scrollWidth")
            assert width_used <= width, f"{path} is {width_used} px wide at {width}"
            if width == 1280:
                assert audit(page) == [], path
        page.close()
