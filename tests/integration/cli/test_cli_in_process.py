"""The CLI without a server: the §30 demo, replay on a data dir, and clear failures."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from tests.support.cli import invoke
from tests.support.nats import require_nats
from tests.support.ports import free_port


def test_demo_runs_the_drill_and_replay_reads_it_back(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    no_nats = {"CASELEDGER_NATS_URL": f"nats://127.0.0.1:{free_port()}"}
    code, output = invoke(["demo", "--data-dir", str(data_dir)], no_nats)
    assert code == 0, output
    facts = ("requires_approval", "case.risk_level_changed", "notice_draft.send_requested")
    for fact in (*facts, "case.closed"):
        assert fact in output
    assert "not_permitted" in output  # the agent could neither decide nor send
    assert "requested but not delivered: NATS does not answer" in output

    env = {"CASELEDGER_DATA_DIR": str(data_dir), "CASELEDGER_EVENTSTORE_URL": ""}
    code, output = invoke(
        [
            "replay",
            "noticedraft",
            "demo-notice-1",
            "--tenant",
            "demo",
            "--as-of-revision",
            "1",
            "--json",
        ],
        env,
    )
    assert code == 0, output
    document = orjson.loads(output)
    assert document["revision"] == 1
    assert document["state"]["status"] == "approval_requested"
    assert [e["event_type"] for e in document["history"]] == [
        "notice_draft.drafted",
        "notice_draft.approval_requested",
    ]
    code, again = invoke(["replay", "case", "demo-case-1", "--tenant", "demo", "--json"], env)
    case = orjson.loads(again)
    assert case["revision"] == 7  # replay wrote nothing
    assert case["state"]["status"] == "closed"
    assert case["history"][-1]["event_type"] == "case.closed"

    past_end = ["--as-of-revision", "99"]
    code, past = invoke(["replay", "case", "demo-case-1", "--tenant", "demo", *past_end], env)
    assert code == 2, past
    assert "its last revision is 7" in " ".join(past.split())
    code, shown = invoke(["replay", "case", "demo-case-1", "--tenant", "demo", "--payloads"], env)
    assert code == 0, shown
    assert "'allegation_summary'" in shown  # each event's data, not only its type
    assert "'proposed_risk_level': 'high'" in shown  # what the agent proposed


@pytest.mark.nats
def test_demo_ends_with_the_notice_sent_once_when_nats_answers(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    code, output = invoke(
        ["demo", "--data-dir", str(data_dir)], {"CASELEDGER_NATS_URL": require_nats()}
    )
    assert code == 0, output
    delivered = re.search(r"deliver notice \(SMTP\)\s+sent\s+Message-ID (<\S+>)", output)
    assert delivered, output
    assert "caseledger audit correlation" in output

    env = {"CASELEDGER_DATA_DIR": str(data_dir), "CASELEDGER_EVENTSTORE_URL": ""}
    code, replayed = invoke(
        ["replay", "noticedraft", "demo-notice-1", "--tenant", "demo", "--json"], env
    )
    document = orjson.loads(replayed)
    assert document["state"]["status"] == "sent"
    assert [e["event_type"] for e in document["history"]].count("notice_draft.sent") == 1
    assert document["history"][-1]["payload"]["message_id"] == delivered.group(1)
    code, replayed = invoke(["replay", "case", "demo-case-1", "--tenant", "demo", "--json"], env)
    assert orjson.loads(replayed)["state"]["status"] == "closed"  # closed once the notice was out


def test_demo_refuses_a_data_dir_that_is_not_fresh(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    code, output = invoke(["demo", "--data-dir", str(tmp_path)])
    assert code == 2
    assert "not empty" in output


def test_replay_of_an_unknown_case_exits_1(tmp_path: Path) -> None:
    (tmp_path / "eventstore").mkdir()
    env = {"CASELEDGER_DATA_DIR": str(tmp_path), "CASELEDGER_EVENTSTORE_URL": ""}
    code, output = invoke(["replay", "case", "nope", "--tenant", "t1"], env)
    assert code == 1
    assert "does not exist" in output


@pytest.mark.parametrize(
    "args", [["c1", "--tenant", "t_1"], ["c/1", "--tenant", "t1"], ["c1", "--tenant", "x" * 65]]
)
def test_replay_of_an_id_outside_the_grammar_exits_2_naming_it(
    tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "eventstore").mkdir()
    env = {"CASELEDGER_DATA_DIR": str(tmp_path), "CASELEDGER_EVENTSTORE_URL": ""}
    code, output = invoke(["replay", "case", *args], env)
    assert code == 2
    assert "not a valid id" in output


def test_replay_without_an_event_store_says_how_to_get_one(tmp_path: Path) -> None:
    env = {"CASELEDGER_DATA_DIR": str(tmp_path / "none"), "CASELEDGER_EVENTSTORE_URL": ""}
    code, output = invoke(["replay", "case", "c1", "--tenant", "t1"], env)
    assert code == 3  # no store to reach
    assert "caseledger serve" in output


def test_a_payload_that_is_not_json_exits_2() -> None:
    code, output = invoke(["command", "--type", "open_case", "--payload", "{", "--token", "t"])
    assert code == 2
    assert "not JSON" in output


def test_an_unreachable_api_exits_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, output = invoke(
        ["query", "--url", url, "--type", "list_cases", "--token", "t", "--payload", "{}"]
    )
    assert code == 3
    assert "caseledger serve" in output
