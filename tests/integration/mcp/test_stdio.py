"""`caseledger mcp` as a subprocess, driven by the SDK's stdio client: the agent named by the
flags works on a case another process wrote to the same data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from caseledger.adapters.bootstrap import bootstrap
from caseledger.adapters.mcp.server import TOOL_NAMES
from caseledger.adapters.settings import Settings
from tests.support.actors import ANALYST
from tests.support.commands import issue
from tests.support.desk import accepted
from tests.support.mcp import structured

pytestmark = pytest.mark.slow

COMMAND = [sys.executable, "-m", "caseledger.adapters.cli.app", "mcp"]


def environment(data_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "CASELEDGER_DATA_DIR": str(data_dir),
        "CASELEDGER_EVENTSTORE_PORT": "0",
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir holding case c1, written and projected by another process's App."""
    with bootstrap(Settings(data_dir=tmp_path), eventstore_port=0) as app:
        app.start()
        opened = accepted(
            issue(
                app.commands,
                "open_case",
                {"case_id": "c1", "allegation_summary": "Unlicensed lending"},
                ANALYST,
            )
        )
        assert opened.commit_position is not None
        assert app.wait_for_views(opened.commit_position)
    return tmp_path


def test_an_agent_session_over_stdio_reads_and_drafts_as_the_configured_agent(
    data_dir: Path,
) -> None:
    parameters = StdioServerParameters(
        command=COMMAND[0],
        args=[*COMMAND[1:], "--tenant", "t1", "--agent-name", "drafter", "--run-id", "run-7"],
        env=environment(data_dir),
    )

    async def main() -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        async with Client(parameters, read_timeout_seconds=60) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            summary = structured(await client.call_tool("get_case_summary", {"case_id": "c1"}))
            draft = structured(
                await client.call_tool(
                    "create_notice_draft",
                    {"case_id": "c1", "recipient": "Lender", "subject": "Notice", "body": "Stop"},
                )
            )
            return tools, summary, draft

    tools, summary, draft = anyio.run(main)

    assert tools == list(TOOL_NAMES)
    assert summary["status"] == "ok"
    assert summary["data"]["case_agent_context"]["case_id"] == "c1"
    assert draft["outcome"] == "accepted"
    assert draft["acting_as"] == {"tenant_id": "t1", "agent_name": "drafter", "run_id": "run-7"}


def test_stdio_without_an_identity_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        COMMAND,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert done.returncode == 2
    assert "stdio needs an identity" in done.stderr
