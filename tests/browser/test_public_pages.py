"""The public pages in real headless Chromium (Debian's), checked by axe-core for WCAG 2.2 AA.

Playwright drives /usr/bin/chromium: no browser is ever downloaded (`playwright install` is
never run). Everything touching the database happens before the browser starts and after it
stops, since Playwright's event loop would make Django refuse ORM calls in between.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from metrics.models import ComplaintsYear, Observation, SurveySectionResult
from releases.models import TrustResult
from tests.factories import computed_release, make_observations, make_trusts, quarter
from tests.public.conftest import publish

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def audit(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 A/AA violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


@pytest.fixture
def browser_page() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        # axe-core is injected as an inline script, which the site's CSP (rightly) refuses;
        # test_content_security_policy.py checks the pages under the policy itself.
        page = browser.new_page(bypass_csp=True)
        yield page
        browser.close()


@pytest.fixture
def world(live_server: Any) -> dict[str, Any]:
    assert AXE.exists(), "node_modules/axe-core is missing: run `npm ci`"
    trusts = make_trusts(12)
    make_observations(trusts, quarter(4))
    # Community trusts without the mental health metrics: their pages say "Not applicable".
    Observation.objects.filter(
        trust__subtype="Community", metric__code__in=["OF0016", "OF0063", "OF1035"]
    ).delete()
    release = publish(computed_release(trust_count=12, replicates=50))
    rows = list(
        TrustResult.objects.filter(release=release).select_related("trust__region").order_by("rank")
    )
    give_patient_feedback(rows[0].trust)
    return {
        "community": next(r.trust for r in rows if r.trust_subtype == "Community"),
        "base": live_server.url,
        "table": release.get_absolute_url(),
        "region": rows[0].trust.region,
        "region_codes": {
            r.trust.ods_code for r in rows if r.trust.region_id == rows[0].trust.region_id
        },
        "trust": rows[0].trust,
        "codes": [r.trust.ods_code for r in rows],
        "peer_group": release.peer_group.name,
    }


def give_patient_feedback(trust: Any) -> None:
    """Complaints and survey results, so the trust page's feedback tables are audited too."""
    ComplaintsYear.objects.create(
        trust=trust,
        year="2024/25",
        new=120,
        resolved=110,
        upheld=20,
        partly_upheld=40,
        not_upheld=50,
        subjects={"Communications": 30, "Appointments": 20},
    )
    SurveySectionResult.objects.bulk_create(
        SurveySectionResult(
            survey="Adult Inpatient Survey",
            year="2022",
            section=f"S{n:02d}",
            trust=trust,
            mean=Decimal("7.5"),
            expected_low=Decimal("6.9"),
            expected_high=Decimal("8.1"),
            band=n % 7 + 1,
            respondents=400,
        )
        for n in range(1, 12)
    )


def test_public_pages_render_and_pass_axe(world: dict[str, Any], browser_page: Any) -> None:
    page = browser_page
    base = world["base"]
    findings: dict[str, list[dict[str, Any]]] = {}

    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "NHS trust league tables"
    assert page.locator(".nhsuk-header").is_visible()  # the NHS.UK stylesheet loaded
    assert page.locator(".nhsuk-header").evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(0, 94, 184)"
    )
    findings["home"] = audit(page)

    # The league table, filtered by region and sorted by average score with the form.
    page.goto(base + world["table"])
    assert world["peer_group"] in page.locator("h1").inner_text()
    page.select_option("#filter-region", world["region"].slug)
    page.select_option("#filter-sort", "-average")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert f"region={world['region'].slug}" in page.url
    assert "sort=-average" in page.url
    shown = page.locator("#league-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.trust)"
    )
    assert set(shown) == world["region_codes"]
    averages = page.locator("#league-table tbody tr td.lt-league__score strong").all_inner_texts()
    assert averages == sorted(averages, reverse=True)
    assert page.locator("#league-table svg.lt-interval").count() == 2 * len(shown)
    findings["league table"] = audit(page)

    # Sorting by a column header works without the form, too.
    page.get_by_role("link", name="Trust (select to sort)").click()
    page.wait_for_load_state()
    assert "sort=name" in page.url

    page.goto(base + world["trust"].get_absolute_url())
    assert page.locator("h1").inner_text() == world["trust"].name
    assert page.get_by_text("What patients say").first.is_visible()
    findings["trust"] = audit(page)

    page.goto(base + world["community"].get_absolute_url())
    assert page.get_by_text("Not measured for community trusts").first.is_visible()
    findings["community trust"] = audit(page)

    page.goto(base + "/methodology/")
    assert page.locator("h1").inner_text() == "How the league tables are made"
    findings["methodology"] = audit(page)

    compare = f"/compare/?trusts={world['trust'].ods_code},{world['community'].ods_code}"
    for path in (compare, "/releases/", "/trusts/", "/no/such/page/"):
        page.goto(base + path)
        findings[path] = audit(page)

    violations = {name: found for name, found in findings.items() if found}
    assert not violations, json.dumps(violations, indent=1)


VIEWPORTS = (390, 1280)


def public_pages(world: dict[str, Any]) -> dict[str, str]:
    """One of every public page type, by name."""
    code = world["trust"].ods_code
    return {
        "home": "/",
        "league table": world["table"],
        "league table, filtered": world["table"] + "?segment_uncertain=true&sort=-average",
        "league table, searched": world["table"] + "?q=no+such+trust",
        "trust": world["trust"].get_absolute_url(),
        "community trust": world["community"].get_absolute_url(),
        "trusts": "/trusts/",
        "trust search": "/trusts/?q=" + code.lower(),
        "compare": "/compare/?trusts=" + " ".join(world["codes"][:5]),
        "methodology": "/methodology/",
        "releases": "/releases/",
        "not found": "/trusts/NOPE1/",
    }


def test_no_public_page_is_wider_than_the_screen(world: dict[str, Any], browser_page: Any) -> None:
    page = browser_page
    too_wide: dict[str, int] = {}
    for width in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in public_pages(world).items():
            page.goto(world["base"] + path)
            document_width = page.evaluate("document.documentElement.scrollWidth")
            if document_width > width:
                too_wide[f"{name} at {width} px"] = document_width
    assert not too_wide, too_wide


def test_the_league_table_shows_rank_trust_segment_and_score_on_a_phone(
    world: dict[str, Any], browser_page: Any
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(world["base"] + world["table"])
    first = page.locator("#league-table tbody tr").first
    for cell in (
        "td.lt-league__rank strong",
        "th a",
        "td.lt-league__segment .nhsuk-tag",
        "td.lt-league__score strong",
    ):
        target = first.locator(cell).first
        assert target.is_visible(), cell
        box = target.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (cell, box)
    # Nothing to scroll sideways: neither the page nor the table's own scroll area.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    scroller = page.locator("#league-table").locator("xpath=..")
    assert scroller.evaluate("e => e.scrollWidth - e.clientWidth") <= 0
    assert audit(page) == []

    page.goto(world["base"] + world["trust"].get_absolute_url())
    assert page.get_by_text("What patients say").first.is_visible()
    assert audit(page) == []
