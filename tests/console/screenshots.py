"""`./dev screenshots`: PNGs of the web console for the README — the reviewer inbox, a case and
its audit page — from a fresh service with a small story in it (an agent proposes, a notice
awaits approval, an earlier proposal was decided). Needs Chromium; not part of CI.

    python -m tests.console.screenshots docs
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.console.chromium import CHROMIUM, chromium
from tests.console.conftest import CONSOLE_TOKENS, Api
from tests.support.live_service import live_service


def _story(api: Api) -> str:
    case_id = api.case_with_evidence(
        title="Bank statement, March",
        text="Twelve transfers of 9,900 EUR to an account abroad within two weeks.",
        allegation="Unlicensed consumer lending through a payment app",
    )
    first = api.propose(case_id, rationale="Transfers just under the reporting threshold.")
    api.command(
        "tok-reviewer-t1",
        "decide_proposal",
        {
            "case_id": case_id,
            "approval_request_id": first["approval_request_id"],
            "proposal_digest": first["events"][0]["payload"]["digest"],
            "decision": "decline",
            "comment": "One month is not enough; look at April too.",
        },
    )
    api.command("tok-analyst-t1", "start_case_review", {"case_id": case_id})
    api.propose(
        case_id,
        rationale="Structured transfers in March and April (e1): risk is high.",
    )
    api.notice_awaiting_approval(
        case_id,
        "Dear lender,\n\nWe are reviewing transfers made from your accounts in March.\n"
        "Please send all statements for March and April by 15 January.\n\nCase team",
    )
    return case_id


def main(out: Path) -> None:
    if not CHROMIUM.exists():
        sys.exit(f"no {CHROMIUM}: install Debian's chromium package first")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, live_service(Path(home), CONSOLE_TOKENS) as live:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            case_id = _story(Api(http))
        time.sleep(1.5)  # the views catch up
        with chromium() as browser:
            page = browser.new_page(base_url=live.url, viewport={"width": 1200, "height": 900})
            page.goto("/console/login")
            page.get_by_label("Your user token").fill("tok-reviewer-t1")
            page.get_by_role("button", name="Sign in").click()
            page.locator(".item.kind-notice").wait_for()
            page.screenshot(path=str(out / "console-inbox.png"), full_page=True)
            page.goto(f"/console/cases/{case_id}")
            page.screenshot(path=str(out / "console-case.png"), full_page=True)
            page.goto(f"/console/audit/cases/{case_id}")
            page.locator("svg.causation").wait_for()
            page.screenshot(path=str(out / "console-audit.png"), full_page=True)
    for name in ("console-inbox.png", "console-case.png", "console-audit.png"):
        print(out / name)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
