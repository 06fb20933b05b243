"""`caseledger projections rebuild` in place while `serve` runs and cases keep being written:
each view is rebuilt as its version's next build generation and switched once caught up, the
running runner follows the switch, and every view ends equal to a fresh rebuild; a rebuild
killed half way leaves the serving generation serving and can be started again."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from tests.support.cli import (
    Served,
    Writer,
    event_store_url,
    run_slow,
    serve_env,
    start_serve,
    view_rows,
)
from tests.support.runners import caught_up_runner, eventually

pytestmark = pytest.mark.slow


def _status(env: dict[str, str]) -> dict[str, dict[str, object]]:
    """The serving entry of each view in `projections status --json`."""
    done = run_slow(["projections", "status", "--json"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    views = json.loads(done.stdout)["views"]
    return {v["name"]: v for v in views if v["state"] in ("serving", "stalled")}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    started = start_serve(tmp_path, serve_env(tmp_path, outbox="off"))
    try:
        yield started
    finally:
        started.stop()


def test_rebuild_and_rebuild_all_while_serve_runs_and_writes_continue(
    served: Served, tmp_path: Path
) -> None:
    data_dir = Path(served.env["CASELEDGER_DATA_DIR"])
    before = _status(served.env)
    with Writer(served) as writer:
        assert eventually(lambda: writer.opened >= 5)
        one = run_slow(["projections", "rebuild", "case_summary"], served.env)
        assert one.returncode == 0, one.stdout + one.stderr
        assert "case_summary_v1_g2 built from" in one.stdout
        every = run_slow(["projections", "rebuild", "--all"], served.env)
        assert every.returncode == 0, every.stdout + every.stderr
        written = writer.opened
        assert eventually(lambda: writer.opened >= written + 5)  # writes go on after it
    after = _status(served.env)
    for name, view in after.items():
        assert view["generation"] == int(str(before[name]["generation"])) + (
            2 if name == "case_summary" else 1
        ), after
    store = SqliteProjectionStore(data_dir / "readmodels.db")
    assert eventually(
        lambda: all(
            store.as_of(p.name) == writer.position or (store.as_of(p.name) or 0) >= writer.position
            for p in all_projections()
        )
    )
    token = served.tokens["reviewer"]
    last = f"w-{writer.opened - 1}"
    answer = httpx.post(
        f"{served.url}/v1/queries",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "query_type": "get_case_summary",
            "payload": {"case_id": last, "min_position": writer.position},
        },
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["case_summary"]["case_id"] == last
    serving = store.serving_generation("case_summary", 1)
    assert serving == 3
    in_new = sqlite3.connect(data_dir / "readmodels.db", timeout=60)
    found = in_new.execute(
        "SELECT COUNT(*) FROM case_summary_v1_g3 WHERE key = ?", (f"demo_{last}",)
    ).fetchone()
    in_new.close()
    assert found == (1,), "the query's row is not in the new generation"
    fresh = SqliteProjectionStore(tmp_path / "fresh.db")
    events = KurrentEventStore.connect(event_store_url(served), 30.0)
    try:
        caught_up_runner(events, fresh)
    finally:
        events.close()
    for projection in all_projections():
        assert view_rows(store, projection.name) == view_rows(fresh, projection.name), (
            projection.name
        )
    store.close()
    fresh.close()


def test_a_rebuild_killed_half_way_leaves_the_serving_generation_serving(
    tmp_path: Path,
) -> None:
    from tests.support.cli import invoke
    from tests.support.ports import free_port

    data_dir = tmp_path / "demo"
    no_nats = {"CASELEDGER_NATS_URL": f"nats://127.0.0.1:{free_port()}"}
    code, output = invoke(["demo", "--data-dir", str(data_dir)], no_nats)
    assert code == 0, output
    env = serve_env(tmp_path)
    env["CASELEDGER_DATA_DIR"] = str(data_dir)
    path = data_dir / "readmodels.db"
    store = SqliteProjectionStore(path)
    rows = view_rows(store, "case_summary")
    rebuilding = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "caseledger.adapters.cli.app",
            "projections",
            "rebuild",
            "case_summary",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lock = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        assert eventually(lambda: _checkpoint(path, "case_summary_v1_g2") is not None)
        lock.execute("BEGIN IMMEDIATE")  # its next commit waits: it is building
        assert rebuilding.poll() is None, "the rebuild ended before it could be killed"
        rebuilding.send_signal(signal.SIGKILL)
        rebuilding.wait(60)
    finally:
        lock.execute("ROLLBACK") if lock.in_transaction else None
        lock.close()
    assert store.serving_generation("case_summary", 1) == 1
    assert view_rows(store, "case_summary") == rows
    again = run_slow(["projections", "rebuild", "case_summary"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert store.serving_generation("case_summary", 1) == 2
    assert view_rows(store, "case_summary") == rows
    store.close()


def _checkpoint(path: Path, projection_id: str) -> int | None:
    """The stored checkpoint (-1: prepared, nothing applied yet), None before it is prepared."""
    connection = sqlite3.connect(path, timeout=60)
    try:
        found = connection.execute(
            "SELECT position FROM projection_versions WHERE projection_id = ?", (projection_id,)
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return None if found is None else int(found[0])
