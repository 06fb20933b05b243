"""A wired caseledger (embedded store in memory, SQLite views, runner started) with one case
under review, and an MCP server on it bound to one agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.mcp.identity import IdentitySource
from caseledger.adapters.mcp.server import build_server
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import TokenRegistry
from caseledger.domain.shared.envelopes import CommandResult
from tests.support.actors import ANALYST, REVIEWER
from tests.support.builders import TENANT
from tests.support.commands import issue
from tests.support.desk import accepted
from tests.support.mcp import AGENT, AGENT_TOKEN, INJECTION, OTHER_TENANT_TOKEN, USER_TOKEN
from tests.support.mcp_http import mcp_over_http


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    tokens = TokenRegistry.from_document(
        {
            "tokens": {
                AGENT_TOKEN: {
                    "tenant": TENANT,
                    "actor_type": "agent",
                    "actor_id": "risk-bot",
                    "run_id": "run-http",
                },
                USER_TOKEN: {
                    "tenant": TENANT,
                    "actor_type": "user",
                    "actor_id": "rita",
                    "roles": ["reviewer"],
                },
                OTHER_TENANT_TOKEN: {
                    "tenant": "t2",
                    "actor_type": "agent",
                    "actor_id": "risk-bot",
                    "run_id": "run-t2",
                },
            }
        }
    )
    wired = bootstrap(Settings(data_dir=tmp_path), mem_db=True, eventstore_port=0, tokens=tokens)
    wired.start()
    yield wired
    wired.close()


@pytest.fixture
def case(app: App) -> CommandResult:
    """Case c1 under review: e1 approved (its text tries a prompt injection), e2 pending."""
    commands = app.commands
    accepted(
        issue(
            commands,
            "open_case",
            {"case_id": "c1", "allegation_summary": "Unlicensed lending <b>at</b> 40%"},
            ANALYST,
        )
    )
    accepted(issue(commands, "start_case_review", {"case_id": "c1"}, ANALYST))
    for evidence_id, text in (("e1", INJECTION), ("e2", "Memo on the loan book")):
        accepted(
            issue(
                commands,
                "submit_evidence",
                {"case_id": "c1", "evidence_id": evidence_id, "title": "Exhibit", "text": text},
                ANALYST,
            )
        )
    last = accepted(
        issue(
            commands,
            "review_evidence",
            {"case_id": "c1", "evidence_id": "e1", "verdict": "approve"},
            REVIEWER,
        )
    )
    assert last.commit_position is not None
    assert app.wait_for_views(last.commit_position)
    return last


@pytest.fixture
def server(app: App) -> MCPServer:
    return build_server(CaseTools(app.commands, app.queries, IdentitySource(AGENT).current))


@pytest.fixture
def url(app: App) -> Iterator[str]:
    """`caseledger mcp --transport http` without a fixed identity, served in a thread."""
    with mcp_over_http(app) as endpoint:
        yield endpoint
