"""`caseledger projections status|rebuild` on a data dir no server holds: they open its event
store themselves, and say clearly when there is none or it does not answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

import pytest

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.views.evidence_search import EvidenceSearchProjection
from tests.support.cli import invoke
from tests.support.ports import free_port


class EvidenceSearchV1(EvidenceSearchProjection):
    version: ClassVar[int] = 1


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a data dir holding the demo's drill (no server running)."""
    data_dir = tmp_path_factory.mktemp("cli") / "demo"
    no_nats = {"CASELEDGER_NATS_URL": f"nats://127.0.0.1:{free_port()}"}
    code, output = invoke(["demo", "--data-dir", str(data_dir)], no_nats)
    assert code == 0, output
    return {"CASELEDGER_DATA_DIR": str(data_dir), "CASELEDGER_EVENTSTORE_URL": ""}


def test_status_reads_the_data_dirs_own_store_and_shows_every_view_caught_up(
    drilled: dict[str, str],
) -> None:
    code, output = invoke(["projections", "status"], drilled)
    assert code == 0, output
    head = re.search(r"in \$all: (\d+)", output)
    assert head is not None, output
    for view in ("case_summary", "case_agent_context", "evidence_search", "pending_approvals"):
        row = re.search(rf"{view}\s*│\s*\d+\s*│\s*yes\s*│\s*(\d+)\s*│\s*(\d+)", output)
        assert row is not None, output
        assert (int(row.group(1)), int(row.group(2))) == (int(head.group(1)), 0)


def test_json_status_is_one_object_with_every_view_and_the_runner(
    drilled: dict[str, str],
) -> None:
    code, output = invoke(["projections", "status", "--json"], drilled)
    assert code == 0, output
    document = json.loads(output)
    assert set(document) >= {"views", "head", "holder", "standbys"}
    assert document["holder"] is None  # no runner runs on this data dir
    assert document["standbys"] == []
    served = {v["name"]: v for v in document["views"] if v["state"] == "serving"}
    for view in ("case_summary", "case_agent_context", "evidence_search", "pending_approvals"):
        entry = served[view]
        assert set(entry) >= {
            "name",
            "version",
            "generation",
            "state",
            "checkpoint",
            "head",
            "lag",
            "parked",
            "stalled_reason",
        }
        assert entry["checkpoint"] == entry["head"] == document["head"]
        assert (entry["lag"], entry["parked"], entry["stalled_reason"]) == (0, 0, None)
        assert entry["generation"] >= 1


def test_the_serving_version_is_rebuilt_in_place_as_its_next_generation(
    drilled: dict[str, str],
) -> None:
    store = SqliteProjectionStore(Path(drilled["CASELEDGER_DATA_DIR"]) / "readmodels.db")
    before = store.serving_generation("case_summary", 1)
    assert before is not None
    rows = store.find("case_summary", "demo", {}, 1000).rows
    assert rows

    code, output = invoke(["projections", "rebuild", "case_summary"], drilled)

    assert code == 0, output
    assert f"case_summary_v1_g{before + 1} built from" in output
    assert store.serving_generation("case_summary", 1) == before + 1
    assert store.find("case_summary", "demo", {}, 1000).rows == rows
    code, output = invoke(["projections", "status", "--json"], drilled)
    views = [v for v in json.loads(output)["views"] if v["name"] == "case_summary"]
    assert {(v["generation"], v["state"]) for v in views} >= {
        (before, "retired"),
        (before + 1, "serving"),
    }
    store.close()


@pytest.mark.parametrize("args", [[], ["case_summary", "--all"], ["no_such_view"]])
def test_rebuild_with_bad_arguments_is_exit_2(drilled: dict[str, str], args: list[str]) -> None:
    code, output = invoke(["projections", "rebuild", *args], drilled)
    assert code == 2, output


def test_a_version_not_serving_is_built_then_switched_to(drilled: dict[str, str]) -> None:
    store = SqliteProjectionStore(Path(drilled["CASELEDGER_DATA_DIR"]) / "readmodels.db")
    store.prepare(EvidenceSearchV1())
    store.activate("evidence_search", 1)  # as a deployment from before version 2
    assert store.active_version("evidence_search") == 1
    code, output = invoke(["projections", "rebuild", "evidence_search"], drilled)
    assert code == 0, output
    assert "indexing evidence_search and switching to it" in output
    assert "evidence_search_v2 built from" in output
    assert store.active_version("evidence_search") == 2
    store.close()


def test_without_an_event_store_status_still_shows_the_views_and_rebuild_says_why(
    tmp_path: Path,
) -> None:
    env = {"CASELEDGER_DATA_DIR": str(tmp_path), "CASELEDGER_EVENTSTORE_URL": ""}
    code, output = invoke(["projections", "status"], env)
    assert code == 0, output
    assert "in $all: unreachable" in output
    store = SqliteProjectionStore(tmp_path / "readmodels.db")
    store.prepare(EvidenceSearchV1())
    store.activate("evidence_search", 1)
    store.close()
    code, output = invoke(["projections", "rebuild", "evidence_search"], env)
    assert code == 3
    assert "no event store at" in output


@pytest.mark.parametrize(
    "args",
    [
        ["projections", "rebuild", "case_summary"],
        ["replay", "case", "c1", "--tenant", "t1"],
        ["audit", "case", "c1"],
        ["audit", "verify"],
        ["outbox", "status"],
        ["serve", "--port", "0"],
        ["projections", "run"],
        ["mcp", "--transport", "stdio", "--tenant", "t1", "--agent-name", "a"],
    ],
)
def test_an_event_store_that_does_not_answer_is_a_clear_exit_3(
    tmp_path: Path, args: list[str]
) -> None:
    unreachable = f"kurrentdb://127.0.0.1:{free_port()}?tls=false"
    env = {"CASELEDGER_DATA_DIR": str(tmp_path), "CASELEDGER_EVENTSTORE_URL": unreachable}
    code, output = invoke(args, env)
    assert code == 3, output
    assert "the event store does not answer" in output


def test_status_shows_the_views_when_the_configured_event_store_does_not_answer(
    tmp_path: Path,
) -> None:
    unreachable = f"kurrentdb://127.0.0.1:{free_port()}?tls=false"
    env = {"CASELEDGER_DATA_DIR": str(tmp_path), "CASELEDGER_EVENTSTORE_URL": unreachable}
    code, output = invoke(["projections", "status"], env)
    assert code == 0, output
    assert "in $all: unreachable" in output
