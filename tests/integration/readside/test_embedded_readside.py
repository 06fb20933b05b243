"""The read side against the embedded event store through the real client: read-your-writes
end to end, and a runner killed mid-batch that restarts into the same views as a clean replay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from caseledger.projections.queries.service import QueryService, QueryStatus
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from tests.support.facts import (
    Fact,
    append,
    evidence_reviewed,
    evidence_submitted,
    opened,
    review_started,
)
from tests.support.queries import summary_query
from tests.support.runners import caught_up_runner, dump

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def events(embedded_server: EmbeddedServer) -> Iterator[KurrentEventStore]:
    store = KurrentEventStore.connect(embedded_server.url)
    yield store
    store.close()


def test_a_command_position_is_visible_to_a_query_that_waits_for_it(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> None:
    append(events, Fact("commandlog-t1", "commandlog.command_not_accepted", {}))  # filtered out
    projections = all_projections()
    runner = ProjectionRunner(events, sqlite_store, projections, RunnerSettings(batch_size=100))
    activate_unserved(sqlite_store, projections)
    runner.start()
    try:
        position = append(events, opened("c1"), review_started("c1"))
        result = QueryService(sqlite_store, head=events).handle(summary_query("c1", position))
    finally:
        runner.stop()

    assert result.status == QueryStatus.OK
    assert result.data is not None
    assert result.data["case_summary"]["status"] == "under_review"
    assert result.data["freshness"]["as_of_position"] >= position


@pytest.mark.slow
def test_killing_the_runner_mid_batch_then_restarting_equals_a_clean_full_replay(
    events: KurrentEventStore, embedded_server: EmbeddedServer, tmp_path: Path
) -> None:
    for i in range(150):
        append(
            events,
            opened(f"c{i}"),
            review_started(f"c{i}"),
            *[evidence_submitted(f"c{i}", f"e{j}", f"wire {i} {j}") for j in range(4)],
            *[evidence_reviewed(f"c{i}", f"e{j}", approve=j % 2 == 0) for j in range(4)],
        )
    head = events.head_position()
    killed = tmp_path / "killed.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.runner_process",
            embedded_server.url,
            str(killed),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for_progress(killed, head)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    partial = SqliteProjectionStore(killed)
    assert (partial.checkpoint("case_summary_v1") or 0) < head  # killed before the end

    caught_up_runner(events, partial, settings=RunnerSettings(batch_size=25))
    clean = SqliteProjectionStore(tmp_path / "clean.db")
    caught_up_runner(events, clean, settings=RunnerSettings(batch_size=500))

    assert dump(partial) == dump(clean)
    assert all(partial.parked(p.id) == [] for p in all_projections())


def _wait_for_progress(path: Path, head: int) -> None:
    """Until the runner has committed something, but not everything."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists():
            try:
                position = SqliteProjectionStore(path).checkpoint("case_summary_v1")
            except Exception:  # tables not created yet
                position = None
            if position is not None and 0 < position < head:
                return
        time.sleep(0.005)
    pytest.fail("the runner process made no progress to kill it in the middle of")
