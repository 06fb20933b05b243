"""The console in a real browser (Debian's Chromium through Playwright): signing in and out,
an agent's proposal appearing by itself, deciding by clicking, refusals in plain words, the
exact notice body, the SVG diagram, CSRF, the cookie and /v1, tenants, keyboard and phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.console.chromium import chromium, require_chromium
from tests.console.conftest import WAIT, Api
from tests.support.live_service import Live

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEADLINE_MS = int(WAIT * 1000)
"""Generous waits: the machine running the tests may be busy. The inbox polls every second."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url)
    context.set_default_timeout(DEADLINE_MS)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, token: str) -> None:
    page.goto("/console/login")
    page.get_by_label("Your user token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def item(page: Page, approval_request_id: str) -> Locator:
    return page.locator(f"#item-{approval_request_id}")


def test_a_user_signs_in_and_out(page: Page) -> None:
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console$"))
    sign_in(page, "tok-reviewer-t1")
    expect(page.get_by_role("heading", name="Pending approvals")).to_be_visible()
    expect(page.get_by_text("Signed in as rita")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/console")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_an_agent_token_cannot_sign_in(page: Page) -> None:
    sign_in(page, "tok-agent-t1")
    expect(page.get_by_role("alert")).to_contain_text("agent token, which is refused")
    page.goto("/console")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_an_agents_proposal_appears_in_the_open_inbox_by_itself(page: Page, api: Api) -> None:
    """Within 2 s on an idle machine (the page asks every second); the deadline is generous."""
    sign_in(page, "tok-reviewer-t1")
    expect(page.get_by_role("heading", name="Pending approvals")).to_be_visible()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    case_id = api.case_with_evidence(text="Twelve transfers abroad")
    proposal = api.propose(case_id, rationale="Structured transfers")
    shown = item(page, proposal["approval_request_id"])
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("Structured transfers")
    expect(shown).to_contain_text("Twelve transfers abroad")
    expect(shown).to_contain_text("risk-bot")
    expect(shown).to_contain_text("run run-1")
    assert navigations == []  # it came without a reload


def test_approving_in_the_browser_commits_the_decision(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    sign_in(page, "tok-reviewer-t1")
    shown = item(page, proposal["approval_request_id"])
    shown.get_by_label("Comment").fill("Evidence is convincing")
    shown.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_role("status").first).to_contain_text("Recorded: approval")
    assert api.risk_level(case_id, after=proposal["commit_position"]) == "high"
    expect(item(page, proposal["approval_request_id"])).to_have_count(0)


def test_the_proposer_approving_their_own_sees_the_four_eyes_refusal(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id, token="tok-pat-t1")
    sign_in(page, "tok-pat-t1")
    item(page, proposal["approval_request_id"]).get_by_role(
        "button", name=re.compile("^Approve")
    ).click()
    expect(page.get_by_role("alert")).to_contain_text("four eyes")
    assert api.risk_level(case_id) is None


def test_a_notice_approval_shows_the_exact_body(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()
    body = "\n  Dear lender,\n\n  please send <all> records & statements\n\tby 1 January.\n"
    draft_id = api.notice_awaiting_approval(case_id, body)
    sign_in(page, "tok-reviewer-t1")
    notice = page.locator(".item.kind-notice", has_text=f"Notice {draft_id}")
    expect(notice).to_be_visible()
    stored = body.strip()  # commands trim a text's surrounding whitespace; the rest is kept
    assert notice.locator("pre.notice-body").text_content() == stored
    expect(notice).to_contain_text("lender@example.org")
    expect(notice).to_contain_text("Notice of inquiry")
    notice.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_role("status").first).to_contain_text(f"approval of notice {draft_id}")
    drafts = api.query("tok-analyst-t1", "list_notice_drafts", {"case_id": case_id})
    deadline_polls = 100
    while drafts["data"]["notice_drafts"][0]["status"] != "approved" and deadline_polls:
        page.wait_for_timeout(200)
        drafts = api.query("tok-analyst-t1", "list_notice_drafts", {"case_id": case_id})
        deadline_polls -= 1
    assert drafts["data"]["notice_drafts"][0]["status"] == "approved"


def test_the_audit_page_linked_from_the_case_holds_an_svg_diagram(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()
    api.propose(case_id)
    sign_in(page, "tok-reviewer-t1")
    page.goto(f"/console/cases/{case_id}")
    page.get_by_role("link", name="Audit trail and causation diagram").click()
    diagram = page.locator("figure.diagram svg.causation")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.node.actor-agent").first).to_be_visible()
    box = diagram.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 50
    expect(page.get_by_role("table")).to_contain_text("case.risk_update_proposed")


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    sign_in(page, "tok-reviewer-t1")
    shown = item(page, proposal["approval_request_id"])
    expect(shown).to_be_visible()
    shown.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        shown.get_by_role("button", name=re.compile("^Approve")).click()
    assert posted.value.status == 403
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    assert api.risk_level(case_id) is None


def test_the_session_cookie_does_not_authenticate_the_api(page: Page, live: Live) -> None:
    sign_in(page, "tok-reviewer-t1")
    expect(page.get_by_role("heading", name="Pending approvals")).to_be_visible()
    cookies = page.context.cookies()
    (session,) = [c for c in cookies if c["name"] == "caseledger_console"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    answer = httpx.post(
        f"{live.url}/v1/queries",
        json={"query_type": "list_pending_approvals", "payload": {}},
        headers={"Cookie": f"caseledger_console={session['value']}"},
    )
    assert answer.status_code == 401
    from_page = page.request.post(
        "/v1/queries", data={"query_type": "list_pending_approvals", "payload": {}}
    )
    assert from_page.status == 401


def test_another_tenants_case_gives_the_same_page_as_an_unknown_one(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()  # tenant t1's
    sign_in(page, "tok-reviewer-t2")
    theirs = page.goto(f"/console/cases/{case_id}")
    assert theirs is not None
    their_text = page.locator("main").inner_text()
    unknown = page.goto("/console/cases/no-such-case")
    assert unknown is not None
    unknown_text = page.locator("main").inner_text()
    assert theirs.status == unknown.status == 404
    assert their_text.replace(case_id, "ID") == unknown_text.replace("no-such-case", "ID")


def test_signing_in_and_deciding_work_by_keyboard_alone(page: Page, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    page.goto("/console/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Your user token")).to_be_focused()
    page.keyboard.type("tok-reviewer-t1")
    page.keyboard.press("Enter")
    shown = item(page, proposal["approval_request_id"])
    shown.get_by_label("Comment").focus()
    page.keyboard.type("by keyboard")
    page.keyboard.press("Tab")
    expect(shown.get_by_role("button", name=re.compile("^Approve"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Recorded: approval")


def test_pages_fit_a_phone_without_sideways_scrolling(
    browser: Browser, live: Live, api: Api
) -> None:
    case_id = api.case_with_evidence(text="A long line " * 40)
    api.propose(case_id)
    context = browser.new_context(base_url=live.url, viewport={"width": 375, "height": 800})
    context.set_default_timeout(DEADLINE_MS)
    try:
        phone = context.new_page()
        sign_in(phone, "tok-reviewer-t1")
        for path in ("/console", f"/console/cases/{case_id}"):
            phone.goto(path)
            expect(phone.locator("main h1")).to_be_visible()
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
    finally:
        context.close()
