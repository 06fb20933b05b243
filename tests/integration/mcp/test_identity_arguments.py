"""Tool arguments naming another tenant, actor, roles or run are refused as an HTTP body
naming them is -- same reason codes -- and recorded in the bound identity's command log; over
HTTP, bodies are bounded before they are parsed."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import orjson
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from caseledger.adapters.bootstrap import App
from caseledger.adapters.mcp.identity import IdentitySource
from caseledger.adapters.mcp.server import build_server
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.commandlog import commandlog_stream
from caseledger.domain.shared.envelopes import CommandResult
from tests.support.mcp import AGENT, AGENT_TOKEN, structured

PROPOSAL: dict[str, Any] = {
    "case_id": "c1",
    "proposed_risk_level": "high",
    "rationale": "40% monthly interest",
    "evidence_refs": ["e1"],
    "confidence": 0.8,
}


@pytest.fixture
def checked(app: App) -> MCPServer:
    """The server as `caseledger mcp` builds it: refusals recorded by the command service."""
    identity = IdentitySource(AGENT).current
    return build_server(CaseTools(app.commands, app.queries, identity, refusals=app.commands))


def call(server: MCPServer, tool: str, arguments: dict[str, Any]) -> Any:
    async def main() -> Any:
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    return anyio.run(main)


def refusals(app: App) -> list[dict[str, Any]]:
    return [orjson.loads(r.data) for r in app.store.read_stream(commandlog_stream(AGENT.tenant_id))]


def test_a_tenant_id_argument_naming_another_tenant_is_refused_and_recorded(
    app: App, checked: MCPServer, case: CommandResult
) -> None:
    before = len(app.store.read_stream(CASE.stream(AGENT.tenant_id, "c1")))

    result = call(checked, "propose_risk_update", {**PROPOSAL, "tenant_id": "t2"})

    assert result.is_error
    assert "tenant_mismatch: " in result.content[0].text
    assert len(app.store.read_stream(CASE.stream(AGENT.tenant_id, "c1"))) == before
    [record] = [r for r in refusals(app) if r["reason_code"] == "tenant_mismatch"]
    assert (record["command_type"], record["actor_id"], record["run_id"]) == (
        "mcp:propose_risk_update",
        AGENT.agent_name,
        AGENT.run_id,
    )


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("propose_risk_update", {**PROPOSAL, "run_id": "forged"}),
        ("get_case_summary", {"case_id": "c1", "requested_by_actor_id": "root"}),
        ("request_approval", {"draft_id": "d1", "requested_by_roles": ["supervisor"]}),
        ("get_case_summary", {"case_id": "c1", "requested_by_actor_type": "user"}),
    ],
    ids=["run", "actor id", "roles", "actor type"],
)
def test_another_actor_or_run_in_the_arguments_is_not_permitted(
    app: App, checked: MCPServer, case: CommandResult, tool: str, arguments: dict[str, Any]
) -> None:
    result = call(checked, tool, arguments)

    assert result.is_error
    assert "not_permitted: " in result.content[0].text
    assert [r["command_type"] for r in refusals(app) if r["reason_code"] == "not_permitted"] == [
        f"mcp:{tool}"
    ]


def test_arguments_repeating_the_bound_identity_change_nothing(
    checked: MCPServer, case: CommandResult
) -> None:
    answer = structured(
        call(
            checked,
            "propose_risk_update",
            {**PROPOSAL, "tenant_id": AGENT.tenant_id, "run_id": AGENT.run_id},
        )
    )

    assert answer["outcome"] == "requires_approval"


def test_a_body_over_the_limit_is_413_before_it_is_parsed(url: str) -> None:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "' + b"x" * 2_000_000 + b'"}'
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }

    with_token = httpx2.post(
        url, content=body, headers={**headers, "Authorization": f"Bearer {AGENT_TOKEN}"}
    )
    without = httpx2.post(url, content=body, headers=headers)

    assert with_token.status_code == 413
    assert with_token.headers["content-type"] == "application/problem+json"
    assert with_token.json()["reason_code"] == "payload_too_large"
    assert without.status_code == 401
