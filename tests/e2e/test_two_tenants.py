"""Two tenants, the same case and draft ids, one service: over HTTP and MCP each opens, evidences,
proposes on, drafts a notice for and audits its own case, and sees only its own. Nothing tenant
t2 does tells whether t1 holds an id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.api_client import ApiClient
from tests.support.live_service import Live, live_service
from tests.support.mcp_http import mcp_over_http

TENANTS = ("t1", "t2")
CASE, DRAFT = "shared-case", "shared-draft"
ROLES = ("analyst", "reviewer", "supervisor")


def _tokens() -> str:
    entries = []
    for tenant in TENANTS:
        for role in ROLES:
            entries.append(
                f'[tokens."{role}-{tenant}"]\ntenant = "{tenant}"\nactor_type = "user"\n'
                f'actor_id = "{role}-{tenant}"\nroles = ["{role}"]\n'
            )
        entries.append(
            f'[tokens."agent-{tenant}"]\ntenant = "{tenant}"\nactor_type = "agent"\n'
            f'actor_id = "risk-bot"\nagent_name = "risk-bot"\nrun_id = "run-{tenant}"\n'
        )
    return "\n".join(entries)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(tmp_path_factory.mktemp("tenants"), _tokens()) as service:
        yield service


@pytest.fixture(scope="module")
def mcp_url(live: Live) -> Iterator[str]:
    """`caseledger mcp --transport http` on the same service: the bearer token names the agent."""
    with mcp_over_http(live.app) as endpoint:
        yield endpoint


def as_(live: Live, token: str) -> ApiClient:
    return live.client(token)


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result.content
            content: dict[str, Any] = result.structured_content or {}
            return content

    answer: dict[str, Any] = anyio.run(main)
    return answer


@pytest.fixture(scope="module")
def worked(live: Live) -> dict[str, int]:
    """Both tenants, over HTTP: open CASE, evidence e1 (approved), an agent's risk proposal and
    notice DRAFT, each with its own words. The last commit position of each."""
    positions: dict[str, int] = {}
    for tenant in TENANTS:
        analyst, reviewer = as_(live, f"analyst-{tenant}"), as_(live, f"reviewer-{tenant}")
        opened = {"case_id": CASE, "allegation_summary": f"lending by {tenant}"}
        assert ok(analyst.command("open_case", opened))["stream_id"] == f"case-{tenant}_{CASE}"
        ok(analyst.command("start_case_review", {"case_id": CASE}))
        evidence = {"case_id": CASE, "evidence_id": "e1"}
        submitted = {**evidence, "title": "Ledger", "text": f"ledger of {tenant}"}
        ok(analyst.command("submit_evidence", submitted))
        ok(reviewer.command("review_evidence", {**evidence, "verdict": "approve"}))
        proposal = {
            "case_id": CASE,
            "proposed_risk_level": "high",
            "rationale": f"pattern at {tenant}",
            "evidence_refs": ["e1"],
            "confidence": 0.8,
        }
        ok(as_(live, f"agent-{tenant}").command("propose_risk_update", proposal), 202)
        notice = {
            "draft_id": DRAFT,
            "case_id": CASE,
            "recipient": f"lender@{tenant}.example",
            "subject": f"Cease ({tenant})",
            "body": "Stop.",
        }
        drafted = ok(analyst.command("create_notice_draft", notice))
        assert drafted["stream_id"] == f"noticedraft-{tenant}_{DRAFT}"
        positions[tenant] = drafted["commit_position"]
    return positions


@pytest.mark.parametrize("tenant", TENANTS)
def test_each_tenant_queries_only_its_own_case_evidence_proposals_and_notices(
    live: Live, worked: dict[str, int], tenant: str
) -> None:
    wait = {"min_position": max(worked.values()), "max_wait_ms": 5000}
    reviewer = as_(live, f"reviewer-{tenant}")
    summary = ok(reviewer.query("get_case_summary", {"case_id": CASE, **wait}))["data"]
    assert summary["case_summary"]["evidence_count"] == 1
    assert summary["case_summary"]["source_refs"][0].startswith(f"case-{tenant}_{CASE}@0#")
    hits = ok(reviewer.query("search_evidence", {"text": "ledger", **wait}))["data"]["evidence"]
    assert [h["snippet"] for h in hits] == [f"ledger of {tenant}"]
    pending = ok(reviewer.query("list_pending_approvals", wait))["data"]["pending_approvals"]
    assert [p["details"]["rationale"] for p in pending] == [f"pattern at {tenant}"]
    drafts = ok(reviewer.query("list_notice_drafts", {"case_id": CASE, **wait}))["data"]
    assert [d["subject"] for d in drafts["notice_drafts"]] == [f"Cease ({tenant})"]


@pytest.mark.parametrize("tenant", TENANTS)
def test_each_tenant_audits_only_its_own_case(
    live: Live, worked: dict[str, int], tenant: str
) -> None:
    trail = ok(as_(live, f"supervisor-{tenant}").get(f"/v1/audit/cases/{CASE}"))
    assert trail["tenant_id"] == tenant
    streams = {row["stream"] for row in trail["timeline"] if row.get("stream")}
    assert streams <= {
        f"case-{tenant}_{CASE}",
        f"noticedraft-{tenant}_{DRAFT}",
        f"commandlog-{tenant}",
    }
    assert f"noticedraft-{tenant}_{DRAFT}" in streams
    heads = {h["stream"]: h for h in trail["chain_heads"]}  # one per stream covered
    assert set(heads) == streams
    assert len(heads[f"case-{tenant}_{CASE}"]["link"]) == 64  # chained; the command log is not


def test_an_id_only_another_tenant_holds_is_answered_as_one_nobody_holds(
    live: Live, worked: dict[str, int]
) -> None:
    opened = {"case_id": "only-t1", "allegation_summary": "x"}
    ok(as_(live, "analyst-t1").command("open_case", opened))
    analyst, supervisor = as_(live, "analyst-t2"), as_(live, "supervisor-t2")

    def answers(case_id: str) -> list[tuple[int, Any]]:
        command = analyst.command("start_case_review", {"case_id": case_id}, command_id="probe")
        query = analyst.query("get_case_summary", {"case_id": case_id}, query_id="probe")
        audit = supervisor.get(f"/v1/audit/cases/{case_id}")
        found = [command, query, audit]
        return [(r.status_code, _without(r.json(), case_id)) for r in found]

    assert answers("only-t1") == answers("held-by-nobody")
    assert answers("only-t1")[0][0] == 404


def test_ids_outside_the_grammar_are_422_naming_the_field_without_echoing_it(
    live: Live,
) -> None:
    analyst = as_(live, "analyst-t1")
    for case_id in ("\u0441" + "1", "c1\u200b", "\uff43" + "1", "c 1", "", "x" * 129, "x" * 5000):
        response = analyst.command("open_case", {"case_id": case_id, "allegation_summary": "x"})
        body = ok(response, 422)
        assert (body["outcome"], body["reason_code"]) == ("validation_error", "invalid_payload")
        assert "case_id" in body["detail"]
        assert len(body["detail"]) < 400
        if case_id:
            assert case_id not in body["detail"]
    audit = as_(live, "supervisor-t1").get("/v1/audit/cases/" + "x" * 300)
    assert (audit.status_code, audit.json()["reason_code"]) == (422, "invalid_payload")


@pytest.mark.parametrize("tenant", TENANTS)
def test_each_tenants_agent_works_on_its_own_case_over_mcp(
    mcp_url: str, worked: dict[str, int], tenant: str
) -> None:
    token = f"agent-{tenant}"
    summary = call(
        mcp_url, token, "get_case_summary", {"case_id": CASE, "min_position": worked[tenant]}
    )
    assert summary["status"] == "ok"
    assert f"lending by {tenant}" in str(summary["data"])
    assert all(r.startswith(f"case-{tenant}_{CASE}@") for r in summary["source_refs"])
    hits = call(mcp_url, token, "search_evidence", {"text": "ledger"})
    assert f"ledger of {tenant}" in str(hits["data"])
    assert not any(f"ledger of {t}" in str(hits["data"]) for t in TENANTS if t != tenant)
    proposal = {
        "case_id": CASE,
        "rationale": "escalate",
        "evidence_refs": ["e1"],
        "confidence": 0.9,
    }
    escalation = call(mcp_url, token, "propose_case_escalation", proposal)
    assert (escalation["outcome"], escalation["stream_id"]) == (
        "requires_approval",
        f"case-{tenant}_{CASE}",
    )
    draft = {
        "case_id": CASE,
        "draft_id": "mcp-draft",
        "recipient": "x@example.com",
        "subject": tenant,
        "body": "b",
    }
    drafted = call(mcp_url, token, "create_notice_draft", draft)
    assert (drafted["outcome"], drafted["stream_id"]) == (
        "accepted",
        f"noticedraft-{tenant}_mcp-draft",
    )


def _without(body: Any, case_id: str) -> Any:
    """A problem body with the probed id taken out (it names what was asked, not what exists)."""
    return {k: str(v).replace(case_id, "<id>") for k, v in body.items() if k != "query_id"}
