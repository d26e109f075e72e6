"""The regulator's quarter and the board's plan, end to end in Debian's Chromium.

The regulator journey: an analyst uploads the NOF file and computes the draft from the to-do
list and submits it; an approver approves and publishes it, then decides the proposals that
publication made from the to-do list, a page at a time with one reason. The board journey: a
board member previews the embargoed table, adds a progress update with evidence and proposes
an action complete. No page of either journey is wider than a 1280 px screen (nor, in the
trust area, a 390 px phone), and no table is cut off or scrolls sideways inside it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from interventions.models import FreedomGrant, SupportAction, SupportPlan
from interventions.services import support
from leaguetable import roles
from leaguetable.celery import app as celery_app
from metrics.imports.register import import_trusts
from metrics.models import ImportRun
from releases.models import Release
from releases.services import lifecycle
from releases.services.drafts import draft_release
from tests.conftest import NHS_DATA
from tests.factories import computed_release, quarter, user_with_role

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PASSWORD = "correct horse battery staple"
NOF_FILE = NHS_DATA / "nof-2025-26-mental-health-community-trust-data.csv"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Everything on the page that reaches past the right edge of the viewport, or a box whose
# content is wider than the box (a table cut off, or scrolling sideways inside the page).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  // Visually hidden content (clipped to nothing, e.g. a responsive table's header row on a
  // phone) is read by screen readers, never seen: it cannot push a page wider.
  const clipped = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.clip !== 'auto' || style.clipPath !== 'none' || style.visibility === 'hidden')
        return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || clipped(el)) continue;
    if (box.right > width + 1) out.push(`${el.tagName}.${el.className} ends at ${box.right}`);
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll', 'hidden'].includes(style.overflowX);
    const field = ['TEXTAREA', 'SELECT', 'INPUT'].includes(el.tagName);
    if (scrolls && !field && el.clientWidth > 40 && el.scrollWidth > el.clientWidth + 1)
      out.push(`${el.tagName}.${el.className} scrolls: ${el.scrollWidth} > ${el.clientWidth}`);
  }
  return {page: document.documentElement.scrollWidth, width, out: out.slice(0, 8)};
}"""


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The live server runs the work a worker would, in-process, with or without a broker; and
    # the ORM is used between browser steps, which Playwright's event loop would otherwise stop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        # ORM calls made while Playwright's event loop runs get their own connection (Django
        # keeps connections per context there); close it here, in that context, or PostgreSQL
        # refuses to drop the test database at the end of the run.
        connections.close_all()
        browser.close()


class Journey:
    """A signed-in browser tab that checks every page it lands on fits the screen."""

    def __init__(self, browser: Any, base: str, width: int) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.base = base
        self.width = width
        self.checked: list[str] = []

    def fits(self) -> None:
        self.page.wait_for_load_state()
        found = self.page.evaluate(OVERFLOW)
        where = self.page.url.replace(self.base, "")
        assert found["page"] <= self.width, f"{where} is {found['page']} px wide: {found['out']}"
        assert not found["out"], f"{where} at {self.width} px: {found['out']}"
        self.checked.append(where)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.fits()

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.fits()

    def sign_in(self, path: str, username: str) -> None:
        self.page.goto(self.base + path)
        self.fits()
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.locator("form:has(input[name=password]) [type=submit]").click()
        self.fits()

    def sign_out_of_admin(self) -> None:
        self.page.locator("#logout-form button").click()
        self.page.wait_for_load_state()


def test_the_regulators_quarter_from_upload_to_decided_proposals(
    live_server: Any, browser: Any
) -> None:
    import_trusts(NHS_DATA / "eric-2024-25-trust-data.csv")
    analyst = user_with_role("analyst", roles.ANALYST)
    approver = user_with_role("approver", roles.APPROVER)
    draft = draft_release(quarter(4), "mental-health-community")
    draft.replicates = 100
    draft.save()

    # The analyst uploads the quarter's file, checks and confirms it.
    tab = Journey(browser, live_server.url, 1280)
    tab.sign_in("/admin/login/?next=/admin/", analyst.username)
    assert "NHS trust league tables: regulators" in tab.page.content()
    tab.click("text=Upload a data file")
    tab.page.select_option("select[name=kind]", "nof")
    tab.page.set_input_files("input[name=file]", str(NOF_FILE))
    tab.click("input[value='Check the file']")
    tab.click("input[value='Import this file']")
    run = ImportRun.objects.filter(file_name=NOF_FILE.name).latest("pk")
    assert run.status == ImportRun.Status.IMPORTED, run.errors[:3]

    # The to-do list sends them to the draft to compute; they compute it and submit it.
    tab.go("/admin/")
    tab.click("#todo-to-compute a.todo-label")
    tab.click(f"a[href*='/releases/release/{draft.pk}/change/']")
    tab.click("a.button:has-text('Recompute')")
    tab.click("input[value='Recompute']")
    draft.refresh_from_db()
    assert draft.computation == Release.Computation.COMPUTED, draft.failure_reason
    offered = tab.page.locator("#release-governance a.button").all_inner_texts()
    assert "Submit for approval" in offered and "Approve" not in offered
    tab.click("a.button:has-text('Submit for approval')")
    tab.click("input[value='Submit for approval']")
    draft.refresh_from_db()
    assert draft.status == Release.Status.SUBMITTED
    tab.sign_out_of_admin()

    # The approver finds it on their to-do list, reviews, approves and publishes it.
    tab.sign_in("/admin/login/?next=/admin/", approver.username)
    assert tab.page.locator("#todo-awaiting-approval").is_visible()
    tab.click("#todo-awaiting-approval .todo-examples a")
    assert "/review/" in tab.page.url
    tab.click("a.button:has-text('Approve')")
    tab.click("input[value='Approve']")
    tab.click("a.button:has-text('Publish now')")
    tab.click("input[value='Publish now']")
    draft.refresh_from_db()
    assert draft.status == Release.Status.PUBLISHED

    # Publication proposed freedoms and plans; the to-do list counts them, never both for one
    # trust, and they are decided a page at a time with one reason.
    proposed_grants = FreedomGrant.objects.filter(status=FreedomGrant.Status.PROPOSED)
    proposed_plans = SupportPlan.objects.filter(status=SupportPlan.Status.PROPOSED)
    assert proposed_grants.exists() and proposed_plans.exists()
    assert not set(proposed_grants.values_list("trust", flat=True)) & set(
        proposed_plans.values_list("trust", flat=True)
    )
    tab.go("/admin/")
    assert tab.page.locator("#todo-proposed-freedoms .todo-count").inner_text() == str(
        proposed_grants.count()
    )
    assert tab.page.locator("#todo-proposed-plans .todo-count").inner_text() == str(
        proposed_plans.count()
    )
    for item, verb, count in (
        ("#todo-proposed-freedoms", "Grant…", proposed_grants.count()),
        ("#todo-proposed-plans", "Confirm…", proposed_plans.count()),
    ):
        tab.go("/admin/")
        tab.click(f"{item} a.todo-label")
        tab.page.check("#action-toggle")
        tab.page.select_option("select[name=action]", label=verb)
        tab.click("button[name=index]")
        tab.page.fill("textarea[name=reason]", "Agreed at the quarterly oversight meeting.")
        tab.click("#content-main input.default[type=submit]")
        assert f": {count}." in tab.page.locator(".messagelist").inner_text()
    assert not FreedomGrant.objects.filter(status=FreedomGrant.Status.PROPOSED).exists()
    assert not SupportPlan.objects.filter(status=SupportPlan.Status.PROPOSED).exists()
    tab.go("/admin/")
    assert tab.page.locator("#todo-proposed-freedoms").count() == 0
    # The lists a regulator works from fit too, with their decision columns in view.
    for path in (
        "/admin/interventions/supportplan/",
        "/admin/interventions/freedomgrant/",
        "/admin/releases/release/",
        "/admin/metrics/observation/",
        f"/admin/interventions/supportplan/{SupportPlan.objects.first().pk}/change/",
    ):
        tab.go(path)
    assert len(tab.checked) >= 20


@pytest.fixture
def board_world(db: None) -> dict[str, Any]:
    """Q3 published with a confirmed plan for T002 and an overdue action; Q4 scheduled."""
    analyst = user_with_role("analyst", roles.ANALYST)
    approver = user_with_role("approver", roles.APPROVER)
    q3 = computed_release(trust_count=12, quarter_number=3, replicates=50, recovery={"T003"})
    lifecycle.submit(q3, analyst)
    lifecycle.approve(q3, approver)
    lifecycle.publish_now(q3, approver)
    plan = SupportPlan.objects.filter(trust__ods_code="T002").first()
    if plan is None:  # whichever segment 4 trust the synthetic scores produced
        plan = SupportPlan.objects.filter(level=SupportPlan.Level.TARGETED).first()
    plan = support.confirm_plan(plan, approver, "Agreed at the oversight meeting.")
    action = SupportAction.objects.create(
        plan=plan,
        description="Bring the community waiting list back under 18 weeks",
        owner_name="Director of Operations",
        owner_email="ops@example.org",
        due_date=timezone.localdate() - datetime.timedelta(days=16),
    )
    q4 = computed_release(trust_count=12, quarter_number=4, replicates=50, seed=11)
    lifecycle.submit(q4, analyst)
    lifecycle.approve(q4, approver)
    lifecycle.schedule(q4, approver, timezone.now() + datetime.timedelta(days=2))
    board = user_with_role("board", roles.BOARD_MEMBER, trust=plan.trust)
    return {"plan": plan, "action": action, "q4": q4, "board": board, "trust": plan.trust}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_boards_preview_update_and_proposal(
    live_server: Any,
    browser: Any,
    board_world: dict[str, Any],
    width: int,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    trust, action, q4 = board_world["trust"], board_world["action"], board_world["q4"]
    tab = Journey(browser, live_server.url, width)

    tab.sign_in("/trust-area/login/", board_world["board"].username)
    assert tab.page.locator("h1").inner_text() == trust.name

    # The embargoed preview says when it will be published, with values beside the median.
    tab.click(f"a[href$='/releases/{q4.pk}/']")
    assert "This table will be published at" in tab.page.locator("#embargo").inner_text()
    assert tab.page.locator("#metric-values").is_visible()
    tab.page.go_back()

    # The plan marks the overdue action; the board adds an update with evidence.
    tab.click(f"a[href$='/trust-area/plans/{board_world['plan'].pk}/']")
    assert "Overdue" in tab.page.locator("#plan-actions").inner_text()
    tab.click(f"a[href$='/trust-area/actions/{action.pk}/']")
    today = timezone.localdate()
    tab.page.fill("#id_date_day", str(today.day))
    tab.page.fill("#id_date_month", str(today.month))
    tab.page.fill("#id_date_year", str(today.year))
    tab.page.fill("#id_text", "Two extra clinics a week since October.")
    evidence = tmp_path / "clinic-rota.pdf"
    evidence.write_bytes(b"%PDF-1.4 rota" + b"0" * 3000)
    tab.page.set_input_files("#id_evidence_file", str(evidence))
    tab.click("button:has-text('Add update')")
    assert "Your update has been added." in tab.page.content()
    assert "clinic-rota.pdf" in tab.page.locator("#updates").inner_text()
    assert "PDF, 2.9" in tab.page.locator("#updates").inner_text()

    # An error is shown the NHS.UK way, then the proposal goes through.
    tab.click("button:has-text('Propose as complete')")
    assert "There is a problem" in tab.page.locator(".nhsuk-error-summary").inner_text()
    tab.page.fill("#id_note", "Waiting list under 18 weeks for six weeks running.")
    tab.click("button:has-text('Propose as complete')")
    action.refresh_from_db()
    assert action.proposed_complete
    assert len(tab.checked) >= 8
