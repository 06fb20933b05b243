"""One active projection runner per read store: a second `caseledger projections run` waits
as a standby (its log and `projections status` say so) and takes over within the lease after
the holder is killed with SIGKILL, with no event applied twice and none lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

SHORT_LEASE = {"lease_seconds": "3", "lease_renew_seconds": "0.5"}
"""Short leases so the takeover is seen soon (the defaults are 15 s and 5 s)."""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Served]:
    started = start_serve(tmp_path, serve_env(tmp_path, outbox="off", **SHORT_LEASE), "--no-runner")
    try:
        yield started
    finally:
        started.stop()


def _runner(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "caseledger.adapters.cli.app", "projections", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _status(env: dict[str, str]) -> dict[str, Any]:
    done = run_slow(["projections", "status", "--json"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _holder_pid(env: dict[str, str]) -> int | None:
    holder = _status(env)["holder"]
    return None if holder is None else holder.get("pid")


def test_a_standby_runner_takes_over_after_the_holder_is_killed(
    api: Served, tmp_path: Path
) -> None:
    first = _runner(api.env, tmp_path / "first.log")
    second: subprocess.Popen[str] | None = None
    try:
        assert eventually(lambda: _holder_pid(api.env) == first.pid, 120), (
            tmp_path / "first.log"
        ).read_text()
        second = _runner(api.env, tmp_path / "second.log")
        assert eventually(lambda: len(_status(api.env)["standbys"]) == 1, 120)
        assert "standby" in (tmp_path / "second.log").read_text()
        assert _holder_pid(api.env) == first.pid
        with Writer(api) as writer:
            assert eventually(lambda: writer.opened >= 10)
            first.send_signal(signal.SIGKILL)
            first.wait(30)
            assert eventually(lambda: _holder_pid(api.env) == second.pid, 120), (
                tmp_path / "second.log"
            ).read_text()
            written = writer.opened
            assert eventually(lambda: writer.opened >= written + 10)
        store = SqliteProjectionStore(Path(api.env["CASELEDGER_DATA_DIR"]) / "readmodels.db")
        assert eventually(
            lambda: all((store.as_of(p.name) or 0) >= writer.position for p in all_projections()),
            120,
        )
        assert all(state.parked == 0 for state in store.states())
        fresh = SqliteProjectionStore(tmp_path / "fresh.db")
        events = KurrentEventStore.connect(event_store_url(api), 30.0)
        try:
            caught_up_runner(events, fresh)
        finally:
            events.close()
        for projection in all_projections():
            assert view_rows(store, projection.name) == view_rows(fresh, projection.name)
        summaries = view_rows(store, "case_summary")
        assert len(summaries) == writer.opened  # none lost, none twice
        store.close()
        fresh.close()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(30)
