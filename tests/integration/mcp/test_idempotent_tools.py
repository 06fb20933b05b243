"""MCP write tools are idempotent by construction: every one takes an idempotency_key; without
one the key is a digest of the tool's name and arguments, and `create_notice_draft`'s draft id
derives from (tenant, actor, key), not the run. So a retried call writes once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mcp.server.mcpserver import MCPServer

from caseledger.adapters.bootstrap import App
from caseledger.adapters.mcp.identity import IdentitySource
from caseledger.adapters.mcp.server import build_server
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.domain.shared.envelopes import CommandResult
from tests.integration.mcp.test_tools import WRITE_TOOLS
from tests.support.mcp import AGENT, call, session

DRAFT = {"case_id": "c1", "recipient": "Lender Ltd", "subject": "Notice", "body": "Stop."}


def in_another_run(app: App) -> MCPServer:
    """The same agent in another run (a restarted agent retrying its call)."""
    identity = replace(AGENT, run_id="run-43")
    return build_server(CaseTools(app.commands, app.queries, IdentitySource(identity).current))


def test_create_notice_draft_retried_without_a_key_makes_one_draft(
    app: App, server: MCPServer, case: CommandResult
) -> None:
    first = call(server, "create_notice_draft", DRAFT)
    again = call(server, "create_notice_draft", DRAFT)
    from_another_run = call(in_another_run(app), "create_notice_draft", DRAFT)

    assert first["outcome"] == "accepted"
    assert [again["outcome"], from_another_run["outcome"]] == ["duplicate_accepted"] * 2
    draft_id = first["subject"]["draft_id"]
    assert again["subject"]["draft_id"] == from_another_run["subject"]["draft_id"] == draft_id
    assert again["source_refs"] == first["source_refs"]
    assert again["freshness"]["commit_position"] == first["freshness"]["commit_position"]
    assert again["idempotency_key"] == first["idempotency_key"]
    assert len(app.store.read_stream(f"noticedraft-t1_{draft_id}")) == 1


def test_another_call_without_a_key_is_another_command(
    app: App, server: MCPServer, case: CommandResult
) -> None:
    first = call(server, "create_notice_draft", DRAFT)
    other = call(server, "create_notice_draft", {**DRAFT, "body": "Stop now."})

    assert [first["outcome"], other["outcome"]] == ["accepted", "accepted"]
    assert first["subject"]["draft_id"] != other["subject"]["draft_id"]


def test_a_proposal_retried_without_a_key_is_proposed_once(
    app: App, server: MCPServer, case: CommandResult
) -> None:
    proposal = {
        "case_id": "c1",
        "proposed_risk_level": "high",
        "rationale": "Rates far above the cap.",
        "evidence_refs": ["e1"],
        "confidence": 0.8,
    }

    first = call(server, "propose_risk_update", proposal)
    again = call(server, "propose_risk_update", proposal)

    assert first["outcome"] in ("accepted", "requires_approval")
    assert again["outcome"] == "duplicate_accepted"
    assert again["source_refs"] == first["source_refs"]


def test_a_key_the_agent_gives_is_one_command_across_drafts(
    app: App, server: MCPServer, case: CommandResult
) -> None:
    first = call(server, "create_notice_draft", {**DRAFT, "idempotency_key": "draft-1"})
    reused = call(
        server, "create_notice_draft", {**DRAFT, "body": "Other.", "idempotency_key": "draft-1"}
    )

    assert first["outcome"] == "accepted"
    assert (reused["outcome"], reused["reason_code"]) == ("rejected", "idempotency_key_reused")


def test_every_write_tool_takes_a_key_and_says_what_happens_without_one(
    server: MCPServer,
) -> None:
    async def steps(client: Any) -> Any:
        return (await client.list_tools()).tools

    tools = {t.name: t for t in session(server, steps)}

    for name in WRITE_TOOLS:
        tool = tools[name]
        assert "idempotency_key" in tool.input_schema["properties"], name
        description = " ".join((tool.description or "").split())
        assert "digest of this tool's name and arguments" in description, name
        key = tool.input_schema["properties"]["idempotency_key"]
        assert "digest of the tool's name and arguments" in key["description"], name
    draft_id = tools["create_notice_draft"].input_schema["properties"]["draft_id"]
    assert "not the run" in draft_id["description"]
