"""The console without a browser: sessions, CSRF, tenants, escaping and decisions over real
HTTP (httpx keeps the cookie as a browser would)."""

from __future__ import annotations

import re
import time

import httpx

from tests.console.conftest import Api, Visitor
from tests.support.live_service import Live


def test_a_stranger_is_sent_to_sign_in(visitor: Visitor) -> None:
    for path in ("/console", "/console/cases", "/console/cases/c1", "/console/ops"):
        answer = visitor.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login?next=")


def test_an_agent_or_system_token_cannot_sign_in(visitor: Visitor) -> None:
    for token in ("tok-agent-t1", "tok-system-t1"):
        answer = visitor.sign_in(token)
        assert answer.status_code == 403
        assert "Only a person" in answer.text
        assert visitor.get("/console").status_code == 303


def test_an_unknown_token_cannot_sign_in(visitor: Visitor) -> None:
    answer = visitor.sign_in("no-such-token-at-all")
    assert answer.status_code == 401
    assert "not valid" in answer.text


def test_the_session_cookie_is_httponly_strict_and_for_the_console_only(
    visitor: Visitor,
) -> None:
    cookie = visitor.sign_in("tok-reviewer-t1").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # plain HTTP here: Secure only over HTTPS


def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    visitor: Visitor, live: Live
) -> None:
    visitor.sign_in("tok-reviewer-t1")
    copied = dict(visitor.http.cookies)
    inbox = visitor.get("/console")
    assert inbox.status_code == 200
    answer = visitor.post("/console/logout", {"csrf_token": visitor.csrf(inbox.text)})
    assert answer.headers["location"] == "/console/login?signed_out=1"
    assert visitor.get("/console").status_code == 303
    with httpx.Client(base_url=live.url, cookies=copied, follow_redirects=False) as thief:
        assert thief.get("/console").status_code == 303


def test_the_inbox_refreshing_itself_does_not_keep_the_session_alive(visitor: Visitor) -> None:
    visitor.sign_in("tok-reviewer-t1")
    signed_in = visitor.http.cookies["caseledger_console"]
    time.sleep(1.1)  # the cookie records the last use to the second
    polled = visitor.get("/console", headers={"HX-Request": "true", "HX-Trigger": "inbox"})
    assert polled.status_code == 200
    assert visitor.http.cookies["caseledger_console"] == signed_in
    visitor.get("/console")
    assert visitor.http.cookies["caseledger_console"] != signed_in


def test_an_expired_session_sends_the_refreshing_inbox_to_sign_in(visitor: Visitor) -> None:
    answer = visitor.get("/console", headers={"HX-Request": "true", "HX-Trigger": "inbox"})
    assert answer.status_code == 204
    assert answer.headers["hx-redirect"] == "/console/login?next=/console"


def test_the_session_cookie_does_not_authenticate_the_api(visitor: Visitor, live: Live) -> None:
    visitor.sign_in("tok-reviewer-t1")
    assert visitor.get("/console").status_code == 200
    cookies = dict(visitor.http.cookies.items())
    with httpx.Client(base_url=live.url, cookies=cookies) as browser:
        for path in ("/v1/queries", "/console/../v1/queries"):
            answer = browser.post(
                path, json={"query_type": "list_pending_approvals", "payload": {}}
            )
            assert answer.status_code == 401
        assert browser.get("/v1/audit/cases/c1").status_code == 401


def test_a_decision_posted_without_its_csrf_token_changes_nothing(
    visitor: Visitor, api: Api
) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    form = visitor.decision_form(proposal["approval_request_id"])
    for forged in ({**form, "csrf_token": ""}, {**form, "csrf_token": "forged"}):
        answer = visitor.post("/console", {**forged, "decision": "approve"})
        assert answer.status_code == 403
        assert "security token" in answer.text
    other = Visitor(str(visitor.http.base_url))  # a valid token of another session
    try:
        other.sign_in("tok-supervisor-t1")
        stolen = other.csrf(other.get("/console").text)
    finally:
        other.close()
    assert visitor.post("/console", {**form, "csrf_token": stolen}).status_code == 403
    assert api.risk_level(case_id) is None


def test_a_form_from_another_site_is_refused(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    form = visitor.decision_form(proposal["approval_request_id"])
    answer = visitor.http.post(
        "/console",
        data={**form, "decision": "approve"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert api.risk_level(case_id) is None


def test_approving_in_the_console_commits_the_decision(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    form = visitor.decision_form(proposal["approval_request_id"])
    answer = visitor.post("/console", {**form, "decision": "approve", "comment": "agreed"})
    assert answer.status_code == 200
    assert "Recorded: approval" in answer.text
    assert f'id="decide-{proposal["approval_request_id"]}"' not in answer.text
    assert api.risk_level(case_id, after=proposal["commit_position"]) == "high"
    again = visitor.post("/console", {**form, "decision": "approve", "comment": "agreed"})
    assert "already been recorded" in again.text


def test_the_proposer_is_refused_with_four_eyes(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id, token="tok-pat-t1")
    visitor.sign_in("tok-pat-t1")
    form = visitor.decision_form(proposal["approval_request_id"])
    answer = visitor.post("/console", {**form, "decision": "approve"})
    assert answer.status_code == 403
    assert "four eyes" in answer.text
    assert "[four_eyes]" in answer.text
    assert api.risk_level(case_id) is None
    audit = api.http.get(
        f"/v1/audit/cases/{case_id}", headers={"Authorization": "Bearer tok-supervisor-t1"}
    ).json()
    refused = [r for r in audit["timeline"] if r["kind"] == "refused"]
    assert ("decide_proposal", "user:pat") in [(r["command_type"], r["actor"]) for r in refused]


def test_a_stale_digest_is_refused_in_plain_words(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    form = visitor.decision_form(proposal["approval_request_id"])
    answer = visitor.post("/console", {**form, "digest": "0" * 64, "decision": "approve"})
    assert "content changed" in answer.text
    assert "[digest_mismatch]" in answer.text


def test_an_analyst_may_not_see_the_inbox(visitor: Visitor) -> None:
    visitor.sign_in("tok-analyst-t1")
    page = visitor.get("/console")
    assert page.status_code == 200
    assert "You may not see pending approvals" in page.text


def test_a_notice_is_shown_with_its_exact_body_and_digest(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    body = "Dear lender,\n\n  we ask for <records> & statements\nby 1 January."
    draft_id = api.notice_awaiting_approval(case_id, body)
    visitor.sign_in("tok-reviewer-t1")
    page = visitor.get("/console").text
    shown = re.search(
        rf'id="item-[^"]+" data-approval-request="[^"]+">\s*<article[^>]*>\s*<h2[^>]*>\s*'
        rf"Notice {draft_id}.*?<pre class=\"notice-body\"[^>]*>(.*?)</pre>",
        page,
        re.S,
    )
    assert shown is not None
    escaped = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert shown.group(1) == "\n" + escaped  # a <pre>'s first newline is not content
    drafts = api.query("tok-analyst-t1", "list_notice_drafts", {"case_id": case_id})
    assert drafts["data"]["notice_drafts"][0]["digest"] in page


def test_agent_and_evidence_text_is_shown_escaped(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence(
        title="<script>alert('t')</script>", text="<img src=x onerror=alert(1)>"
    )
    api.propose(case_id, rationale="<b onclick=alert(2)>trust me</b>")
    visitor.sign_in("tok-reviewer-t1")
    for path in ("/console", f"/console/cases/{case_id}", f"/console/audit/cases/{case_id}"):
        page = visitor.get(path).text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "<b onclick" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in visitor.get("/console").text


def test_another_tenants_case_reads_like_an_unknown_one(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()  # tenant t1's
    visitor.sign_in("tok-reviewer-t2")
    pages = {}
    for path in ("cases", "audit/cases"):
        theirs = visitor.get(f"/console/{path}/{case_id}")
        unknown = visitor.get(f"/console/{path}/{case_id}x")
        assert theirs.status_code == unknown.status_code == 404
        pages[path] = theirs.text
        assert theirs.text.replace(case_id, "ID") == unknown.text.replace(f"{case_id}x", "ID")
    assert visitor.get("/console/cases/bad%20id%21").status_code == 404


def test_the_case_page_shows_evidence_proposals_and_a_timeline_of_actors(
    visitor: Visitor, api: Api
) -> None:
    case_id = api.case_with_evidence(text="Five transfers to an offshore account")
    api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    page = visitor.get(f"/console/cases/{case_id}").text
    assert "Five transfers to an offshore account" in page
    assert "Large transfers" in page
    assert f'href="/console/audit/cases/{case_id}"' in page
    for kind in ("human", "agent"):
        assert f'class="entry actor-{kind}"' in page


def test_the_cases_list_shows_status_risk_and_freshness(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    api.command("tok-analyst-t1", "start_case_review", {"case_id": case_id})
    visitor.sign_in("tok-reviewer-t1")
    page = visitor.get("/console/cases?status=under_review").text
    assert f'href="/console/cases/{case_id}"' in page
    assert "under review" in page
    assert "as of position" in page


def test_the_audit_page_holds_an_svg_diagram_and_the_timeline(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    page = visitor.get(f"/console/audit/cases/{case_id}").text
    assert re.search(r'<svg [^>]*class="causation"[^>]*role="img"', page)
    assert 'class="node actor-agent' in page
    assert "case.risk_update_proposed" in page
    assert 'href="/console/audit/correlations/' in page


def test_operations_are_for_supervisors_and_show_their_tenant_only(
    visitor: Visitor, live: Live
) -> None:
    visitor.sign_in("tok-reviewer-t1")
    assert visitor.get("/console/ops").status_code == 403
    visitor.sign_in("tok-supervisor-t1")
    page = visitor.get("/console/ops")
    assert page.status_code == 200
    assert "case_summary" in page.text
    assert "t2_" not in page.text
    refused = visitor.post(
        "/console/ops",
        {
            "csrf_token": visitor.csrf(page.text),
            "retry": "stream",
            "projection_id": "case_summary",
            "stream": "case-t2_cc-1",
        },
    )
    assert "No such parked stream in your tenant" in refused.text


def test_every_console_page_loads_only_its_own_files(visitor: Visitor) -> None:
    visitor.sign_in("tok-supervisor-t1")
    for path in ("/console/login", "/console", "/console/cases", "/console/ops"):
        answer = visitor.get(path)
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        assert not re.search(r'(src|href)="(https?:)?//', answer.text)
    assert visitor.get("/console/static/htmx.min.js").status_code == 200
    assert visitor.get("/console/static/console.css").status_code == 200


def test_the_console_is_not_in_the_openapi_document(live: Live) -> None:
    document = httpx.get(f"{live.url}/openapi.json").json()
    assert not any(path.startswith("/console") for path in document["paths"])


def test_a_role_the_policy_does_not_name_is_refused_in_plain_words(
    visitor: Visitor, api: Api
) -> None:
    case_id = api.case_with_evidence()
    api.command("tok-analyst-t1", "start_case_review", {"case_id": case_id})
    escalation = api.command(
        "tok-agent-t1",
        "propose_case_escalation",
        {"case_id": case_id, "rationale": "Pattern", "evidence_refs": ["e1"], "confidence": 0.9},
    )
    visitor.sign_in("tok-reviewer-t1")  # escalations are the supervisors' (default policy)
    form = visitor.decision_form(escalation["approval_request_id"])
    answer = visitor.post("/console", {**form, "decision": "approve"})
    assert answer.status_code == 403
    assert "Your role may not decide this" in answer.text
    assert "[approver_role_required]" in answer.text


def test_a_policy_change_since_the_request_asks_to_decide_again(visitor: Visitor, api: Api) -> None:
    case_id = api.case_with_evidence()
    proposal = api.propose(case_id)
    visitor.sign_in("tok-reviewer-t1")
    form = visitor.decision_form(proposal["approval_request_id"])
    api.command(
        "tok-supervisor-t1",
        "publish_policy",
        {"policy_version": f"v-{case_id}", "rules": {}},
    )
    answer = visitor.post("/console", {**form, "decision": "approve"})
    assert "policy changed" in answer.text
    assert "review it again" in answer.text
    assert api.risk_level(case_id) is None
    forms = [f for f in answer.text.split("<form")[1:] if f'value="{case_id}"' in f]
    assert len(forms) == 1  # the renewed request, in place of the old one
    renewed = re.search(r'id="decide-(apr-[^"]+)"', forms[0])
    assert renewed is not None
    assert renewed.group(1) != proposal["approval_request_id"]
