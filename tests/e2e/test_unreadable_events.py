"""Events this code cannot read, appended by a raw KurrentDB client to one case: every kind is
`unreadable_event`, named by stream and revision, and nothing else is touched by it -- a command
on that case is refused (409) and recorded, `caseledger replay` exits 1 with one line, an MCP
call is a tool error with the reason, and audits (of that case and of another) carry on."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import orjson
import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient import NewEvent as RawEvent
from mcp import Client

from caseledger.adapters.mcp.identity import AgentIdentity, IdentitySource
from caseledger.adapters.mcp.server import build_server
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.commandlog import commandlog_stream
from tests.support.cli import run
from tests.support.live_service import Live

META: dict[str, Any] = {"tenantId": "t1", "occurredAt": "2026-12-07T00:00:00+00:00"}

UNREADABLE = {
    "unknown type": ("case.teleported", orjson.dumps({"case_id": "x"}), orjson.dumps(META)),
    "unknown schema version": (
        "case.review_started",
        orjson.dumps({"case_id": "x", "started_by": "a"}),
        orjson.dumps({**META, "schemaVersion": "9"}),
    ),
    "data not JSON": ("case.review_started", b"\xff{not json", orjson.dumps(META)),
    "metadata not JSON": (
        "case.review_started",
        orjson.dumps({"case_id": "x", "started_by": "a"}),
        b"{metadata",
    ),
    "schemaVersion not a number": (
        "case.review_started",
        orjson.dumps({"case_id": "x", "started_by": "a"}),
        orjson.dumps({**META, "schemaVersion": "one"}),
    ),
}


@pytest.fixture(scope="module")
def cases(live: Live) -> Iterator[tuple[str, str]]:
    """(broken, sound): both opened over HTTP; the first then holds one event of every
    unreadable kind, appended by a raw client."""
    broken, sound = f"broken-{uuid.uuid4().hex[:8]}", f"sound-{uuid.uuid4().hex[:8]}"
    analyst = live.client("tok-analyst-t1")
    for case_id in (broken, sound):
        opened = analyst.command("open_case", {"case_id": case_id, "allegation_summary": "x"})
        assert opened.status_code == 200, opened.text
    raw = KurrentDBClient(uri=live.app.eventstore_url)
    try:
        raw.append_to_stream(
            CASE.stream("t1", broken),
            current_version=StreamState.ANY,
            events=[
                RawEvent(type=kind, data=data, metadata=metadata)
                for kind, data, metadata in UNREADABLE.values()
            ],
        )
    finally:
        raw.close()
    yield broken, sound
    analyst.close()


def test_a_command_on_the_case_is_refused_naming_stream_and_revision_and_recorded(
    live: Live, cases: tuple[str, str]
) -> None:
    broken, _ = cases
    command_id = f"cmd-{uuid.uuid4().hex}"
    answer = live.client("tok-analyst-t1").command(
        "start_case_review", {"case_id": broken}, command_id=command_id
    )

    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert (problem["outcome"], problem["reason_code"]) == ("rejected", "unreadable_event")
    assert f"{CASE.stream('t1', broken)}@1" in problem["detail"]
    assert "unknown_event_type" in problem["detail"]
    records = live.app.store.read_stream(commandlog_stream("t1"))
    recorded = [orjson.loads(r.data) for r in records]
    mine = [r for r in recorded if r["command_id"] == command_id]
    assert [r["reason_code"] for r in mine] == ["unreadable_event"]


def test_the_other_case_takes_commands_as_ever(live: Live, cases: tuple[str, str]) -> None:
    _, sound = cases
    answer = live.client("tok-analyst-t1").command("start_case_review", {"case_id": sound})

    assert answer.status_code == 200, answer.text


def test_replay_exits_1_with_one_line_naming_the_event(live: Live, cases: tuple[str, str]) -> None:
    broken, sound = cases
    env = {**os.environ, "CASELEDGER_EVENTSTORE_URL": live.app.eventstore_url}

    failed = run(["replay", "case", broken, "--tenant", "t1"], env)
    replayed = run(["replay", "case", sound, "--tenant", "t1", "--json"], env)

    assert failed.returncode == 1, failed.stderr
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert f"{CASE.stream('t1', broken)}@1" in lines[0]
    assert "Traceback" not in failed.stderr
    assert replayed.returncode == 0, replayed.stderr
    assert orjson.loads(replayed.stdout)["stream"] == CASE.stream("t1", sound)


def test_an_mcp_command_on_the_case_is_a_tool_error_with_the_reason(
    live: Live, cases: tuple[str, str]
) -> None:
    broken, _ = cases
    agent = AgentIdentity("t1", "risk-bot", "run-unreadable")
    server = build_server(
        CaseTools(live.app.commands, live.app.queries, IdentitySource(agent).current)
    )
    arguments = {
        "case_id": broken,
        "proposed_risk_level": "high",
        "rationale": "r",
        "evidence_refs": [],
        "confidence": 0.5,
    }

    async def main() -> Any:
        async with Client(server) as client:
            return await client.call_tool("propose_risk_update", arguments)

    result = anyio.run(main)

    assert result.is_error
    text = result.content[0].text
    assert "unreadable_event: " in text
    assert f"{CASE.stream('t1', broken)}@1" in text


@pytest.mark.parametrize("token", ["tok-supervisor-t1", "tok-reviewer-t1"])
def test_audits_list_the_unreadable_events_and_carry_on(
    live: Live, cases: tuple[str, str], token: str
) -> None:
    broken, sound = cases
    auditor = live.client(token)

    of_broken = auditor.get(f"/v1/audit/cases/{broken}")
    of_sound = auditor.get(f"/v1/audit/cases/{sound}")

    assert of_broken.status_code == 200, of_broken.text
    unreadable = of_broken.json()["unreadable"]
    assert [(u["stream"], u["revision"]) for u in unreadable] == [
        (CASE.stream("t1", broken), revision) for revision in range(1, 1 + len(UNREADABLE))
    ]
    assert all("cannot be read" in u["reason"] for u in unreadable)
    emitted = of_broken.json()["answers"]["which_event_was_emitted"]
    assert [e["event_type"] for e in emitted] == ["case.opened"]
    assert of_sound.status_code == 200, of_sound.text
    assert of_sound.json()["unreadable"] == []
    assert any(row["event_type"] == "case.opened" for row in of_sound.json()["timeline"])


def test_the_audit_command_carries_on_too(live: Live, cases: tuple[str, str]) -> None:
    broken, sound = cases
    env = {
        **os.environ,
        "CASELEDGER_EVENTSTORE_URL": live.app.eventstore_url,
        "CASELEDGER_DATA_DIR": str(live.app.settings.data_dir),  # the audit index's read store
    }

    of_broken = run(["audit", "case", broken, "--json"], env)
    of_sound = run(["audit", "case", sound, "--json"], env)

    assert of_broken.returncode == 0, of_broken.stderr
    assert len(orjson.loads(of_broken.stdout)["unreadable"]) == len(UNREADABLE)
    assert of_sound.returncode == 0, of_sound.stderr
    assert orjson.loads(of_sound.stdout)["unreadable"] == []
