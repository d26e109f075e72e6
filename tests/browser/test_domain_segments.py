"""The domain view of a league table and the trust page's domain segments in real Chromium:
axe-clean at desktop and phone widths, no sideways scrolling at 390 px, and a table a screen
reader reads as a table (each cell's segment announced under its domain and trust)."""

# The page fixtures are shared with test_public_pages by import; pytest passes them back in
# as parameters of the same names.
# ruff: noqa: F811

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.test_public_pages import (  # noqa: F401  (fixtures)
    CHROMIUM,
    audit,
    browser_page,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTHS = (1280, 390)


def domains_path(table: str) -> str:
    return table + "domains/"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_domain_view_reads_well_and_fits_a_phone(
    world: dict[str, Any], browser_page: Any, width: int
) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(world["base"] + domains_path(world["table"]))

    assert "segments by domain" in page.locator("h1").inner_text()
    table = page.get_by_role("table")
    assert table.count() == 1
    assert page.get_by_role("columnheader").count() == 6  # the trust and five domains
    assert page.get_by_role("rowheader").count() == 12
    # A cell is announced as its segment (the repeated heading shown on phones is hidden from
    # screen readers, which take the column header instead).
    first_cell = page.get_by_role("row").nth(1).get_by_role("cell").first
    assert (
        first_cell.evaluate(
            "c => c.querySelector('.nhsuk-table__heading').getAttribute('aria-hidden')"
        )
        == "true"
    )
    assert "Segment" in first_cell.inner_text() or "No segment" in first_cell.inner_text()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling at {width}px"
    violations = audit(page)
    assert not violations, json.dumps(violations, indent=1)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_trust_page_draws_each_domain_segment(
    world: dict[str, Any], browser_page: Any, width: int
) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(world["base"] + world["trust"].get_absolute_url())

    domain_table = page.locator("table.lt-domain-table")
    assert domain_table.locator("svg.lt-scale").count() == 5
    assert domain_table.locator("svg.lt-scale").first.get_attribute("aria-hidden") == "true"
    assert "Segment 1 up to" in domain_table.inner_text()
    # Other tables of the trust page scroll sideways on a phone; this one fits.
    assert domain_table.evaluate("t => t.getBoundingClientRect().right") <= width
    page.get_by_role("link", name="Every trust's domain segments").click()
    page.wait_for_load_state()
    assert page.url.endswith("/domains/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    violations = audit(page)
    assert not violations, json.dumps(violations, indent=1)
