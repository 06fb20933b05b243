"""`caseledger audit what-if` on a data dir: the report (exit 0, also when nothing would
change), bad arguments and drafts `publish_policy` would refuse (exit 2), an event store that
does not answer (exit 3), and nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from caseledger.adapters.bootstrap import bootstrap
from caseledger.adapters.settings import Settings
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.envelopes import CommandResult
from tests.support.actors import AGENT, REVIEWER, SUPERVISOR
from tests.support.cli import invoke
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.ports import free_port
from tests.support.stores import embedded_store, kurrent_store

CURRENT = (
    '[risk_update]\napprover_roles = ["reviewer", "supervisor"]\nauto_commit_min_confidence = 0.6\n'
)
STRICTER = '[risk_update]\napprover_roles = ["supervisor"]\nauto_commit_min_confidence = 0.8\n'


def _propose(service: CommandService, case_id: str, confidence: float) -> CommandResult:
    payload = {
        "case_id": case_id,
        "proposed_risk_level": "high",
        "rationale": "rates far above the cap",
        "evidence_refs": ["e1"],
        "confidence": confidence,
    }
    return issue(service, "propose_risk_update", payload, AGENT)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data dir whose tenant t1 has a proposal committed at once (floor 0.6) and one a
    reviewer approved: their events, and the store's head."""
    data_dir = tmp_path_factory.mktemp("whatif")
    with bootstrap(Settings(data_dir=data_dir), eventstore_port=0) as app:
        app.start()
        service = app.commands
        rule: dict[str, Any] = {"approver_roles": ["reviewer", "supervisor"]}
        rule["auto_commit_min_confidence"] = 0.6
        payload = {"policy_version": "v1", "rules": {"risk_update": rule}}
        accepted(issue(service, "publish_policy", payload, SUPERVISOR))
        case_under_review(service, "c1")
        case_under_review(service, "c2")
        auto = _propose(service, "c1", 0.7)
        waiting = _propose(service, "c2", 0.5)
        decision = {
            "case_id": "c2",
            "approval_request_id": waiting.approval_request_id,
            "proposal_digest": waiting.events[0].payload["digest"],
            "decision": "approve",
        }
        decided = accepted(issue(service, "decide_proposal", decision, REVIEWER))
        head = app.store.head_position()
        assert app.wait_for_views(head, timeout=60)
    return {
        "data_dir": data_dir,
        "head": head,
        "auto": f"case-t1_c1@{auto.events[0].stream_revision}",
        "reviewer": f"case-t1_c2@{decided.stream_revision}",
    }


def _env(history: dict[str, Any]) -> dict[str, str]:
    return {"CASELEDGER_DATA_DIR": str(history["data_dir"]), "CASELEDGER_EVENTSTORE_URL": ""}


def _policy(tmp_path: Path, text: str, name: str = "draft.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_report_lists_what_a_stricter_draft_would_have_decided_otherwise(
    history: dict[str, Any], tmp_path: Path
) -> None:
    args = ["audit", "what-if", "--policy", _policy(tmp_path, STRICTER), "--tenant", "t1"]
    code, output = invoke([*args, "--json"], _env(history))

    assert code == 0, output
    report = orjson.loads(output)
    assert [d["event"] for d in report["differences"]] == [history["auto"], history["reviewer"]]
    assert report["totals"] == {
        "risk_update.approver_roles": 1,
        "risk_update.auto_commit_min_confidence": 1,
    }
    code, text = invoke(args, _env(history))
    assert code == 0, text
    assert "2 of 3 past decisions" in text
    assert "rule   risk_update.approver_roles" in text


def test_the_current_policy_lists_nothing_and_exits_0(
    history: dict[str, Any], tmp_path: Path
) -> None:
    policy = _policy(tmp_path, CURRENT)
    code, output = invoke(["audit", "what-if", "--policy", policy], _env(history))

    assert code == 0, output
    assert "0 of 3 past decisions" in output
    assert "(none: nothing would change)" in output


def test_a_what_if_writes_nothing(history: dict[str, Any], tmp_path: Path) -> None:
    policy = _policy(tmp_path, '{"agent_commands": []}', "draft.json")
    code, output = invoke(["audit", "what-if", "--policy", policy, "--json"], _env(history))
    assert code == 0, output
    assert orjson.loads(output)["totals"] == {"agent_commands": 2}

    with embedded_store(history["data_dir"] / "eventstore") as server, kurrent_store(server) as s:
        assert s.head_position() == history["head"]


@pytest.mark.parametrize(
    ("text", "name", "extra", "said"),
    [
        ('{"agent_commands": ["close_case"]}', "d.json", [], "agents can never be granted"),
        ("run_command_budget = 0\n", "d.toml", [], "run_command_budget"),
        ("[risk_update]\napprover_roles = ['judge']\n", "d.toml", [], "approver_roles"),
        ("not json, not toml [", "d.txt", [], "is not JSON or TOML"),
        (CURRENT, "d.toml", ["--since", "last week"], "not an ISO-8601"),
        (CURRENT, "d.toml", ["--tenant", "a_b"], "tenant_id"),
    ],
)
def test_bad_arguments_and_drafts_publish_policy_would_refuse_exit_2(
    history: dict[str, Any], tmp_path: Path, text: str, name: str, extra: list[str], said: str
) -> None:
    policy = _policy(tmp_path, text, name)
    code, output = invoke(["audit", "what-if", "--policy", policy, *extra], _env(history))

    assert code == 2, output
    assert said in " ".join(output.split())


def test_a_missing_policy_file_exits_2(history: dict[str, Any], tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.toml")
    code, output = invoke(["audit", "what-if", "--policy", missing], _env(history))

    assert code == 2, output


def test_an_event_store_that_does_not_answer_exits_3(tmp_path: Path) -> None:
    env = {
        "CASELEDGER_DATA_DIR": str(tmp_path),
        "CASELEDGER_EVENTSTORE_URL": f"kurrentdb://127.0.0.1:{free_port()}?tls=false",
        "CASELEDGER_EVENTSTORE_TIMEOUT": "1",
    }
    code, output = invoke(["audit", "what-if", "--policy", _policy(tmp_path, CURRENT)], env)

    assert code == 3, output
    assert "does not answer" in output
