"""`caseledger serve` hosting the embedded store runs the projection runner in a child process
it supervises (CASELEDGER_RUNNER_IN=auto): a command's effect is visible to a query that asks
for its position, a child killed with SIGKILL is started again and the views catch up with
nothing lost and nothing applied twice, and SIGTERM stops the child with serve. While no child
runs `/readyz` says the runner is restarting (503), and ready once a restarted child caught up;
children that cannot start are reported stalled with the reason (`/readyz`, `projections
status`) and started again until one can."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.runner_report import read_report
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from tests.support.api_client import ApiClient
from tests.support.cli import (
    Served,
    Writer,
    event_store_url,
    run,
    serve_env,
    start_serve,
    view_rows,
)
from tests.support.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.support.runners import caught_up_runner, eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    started = start_serve(tmp_path, serve_env(tmp_path, outbox="off"))
    try:
        yield started
    finally:
        started.stop()


def _data_dir(served: Served) -> Path:
    return Path(served.env["CASELEDGER_DATA_DIR"])


def _child_pid(served: Served) -> int | None:
    """The running runner's pid, from the report it writes (None until one runs)."""
    report = read_report(_data_dir(served))
    if report is None or not report.alive or report.state != "running":
        return None
    return report.pid


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _ready(served: Served) -> bool:
    return httpx.get(f"{served.url}/readyz").status_code == 200


def _open_and_read(client: ApiClient, case_id: str) -> httpx.Response:
    opened = client.command("open_case", {"case_id": case_id, "allegation_summary": "x"})
    assert opened.status_code == 200, opened.text
    position = opened.json()["commit_position"]
    return client.query(
        "get_case_summary", {"case_id": case_id, "min_position": position, "max_wait_ms": 5000}
    )


def test_the_runner_is_a_child_process_of_serve(served: Served) -> None:
    assert eventually(lambda: _child_pid(served) is not None, 60), served.log.read_text()
    child = _child_pid(served)
    assert child is not None
    assert child != served.process.pid
    assert _parent_of(child) == served.process.pid
    assert "projected by a child process" in served.log.read_text()


def test_a_command_is_visible_to_a_query_for_its_position(served: Served) -> None:
    assert eventually(lambda: _ready(served), 60)
    client = ApiClient(served.url, served.tokens["analyst"])
    try:
        for n in range(20):
            answer = _open_and_read(client, f"seen-{n}")
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["case_summary"]["status"] == "opened"
    finally:
        client.close()


def test_a_killed_child_is_started_again_and_the_views_catch_up_once_each(
    served: Served, tmp_path: Path
) -> None:
    assert eventually(lambda: _child_pid(served) is not None, 60)
    first = _child_pid(served)
    assert first is not None
    with Writer(served) as writer:
        assert eventually(lambda: writer.opened >= 10)
        os.kill(first, signal.SIGKILL)
        assert eventually(lambda: _child_pid(served) not in (None, first), 60), (
            served.log.read_text()
        )
        written = writer.opened
        assert eventually(lambda: writer.opened >= written + 10)
    client = ApiClient(served.url, served.tokens["analyst"])
    try:
        after = _open_and_read(client, "after-the-kill")
        assert after.status_code == 200, after.text
        assert after.json()["data"]["case_summary"]["status"] == "opened"
    finally:
        client.close()
    assert "ended with exit code -9; starting it again" in served.log.read_text()
    assert _ready(served)
    store = SqliteProjectionStore(_data_dir(served) / "readmodels.db")
    fresh = SqliteProjectionStore(tmp_path / "fresh.db")
    events = KurrentEventStore.connect(event_store_url(served), 30.0)
    try:
        head = events.head_position()
        assert eventually(
            lambda: all((store.as_of(p.name) or 0) >= head for p in all_projections()), 60
        )
        assert all(state.parked == 0 for state in store.states())
        caught_up_runner(events, fresh)
        for projection in all_projections():
            assert view_rows(store, projection.name) == view_rows(fresh, projection.name)
        assert len(view_rows(store, "case_summary")) == writer.opened + 1  # none lost or twice
    finally:
        events.close()
        store.close()
        fresh.close()


def test_sigterm_stops_the_child_with_serve(served: Served) -> None:
    assert eventually(lambda: _child_pid(served) is not None, 60)
    child = _child_pid(served)
    assert child is not None
    assert served.stop() == 0
    report = read_report(_data_dir(served))
    assert report is not None
    assert (report.pid, report.state) == (child, "stopped")  # it stopped, then serve did
    assert not Path(f"/proc/{child}").exists()  # serve waited for it


def test_the_child_ends_when_serve_is_killed(served: Served) -> None:
    assert eventually(lambda: _child_pid(served) is not None, 60)
    child = _child_pid(served)
    assert child is not None
    served.process.kill()
    served.process.wait(10)
    assert eventually(lambda: not Path(f"/proc/{child}").exists() or _zombie(child), 30)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


def test_the_child_keeps_views_in_postgresql(tmp_path: Path, postgres_url: str) -> None:
    started = start_serve(tmp_path, serve_env(tmp_path, outbox="off", readstore_url=postgres_url))
    try:
        assert eventually(lambda: _ready(started), 60), started.log.read_text()
        assert _child_pid(started) not in (None, started.process.pid)
        client = ApiClient(started.url, started.tokens["analyst"])
        try:
            answer = _open_and_read(client, "in-postgres")
        finally:
            client.close()
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["case_summary"]["status"] == "opened"
    finally:
        assert started.stop() == 0


def test_readyz_says_stalled_while_the_child_cannot_write_the_views(served: Served) -> None:
    assert eventually(lambda: _ready(served), 60)
    client = ApiClient(served.url, served.tokens["analyst"])
    locker = sqlite3.connect(_data_dir(served) / "readmodels.db", isolation_level=None, timeout=60)
    stalled: list[httpx.Response] = []

    def reports_stalled() -> bool:
        response = httpx.get(f"{served.url}/readyz")
        if response.status_code == 503 and "projections_stalled" in response.text:
            stalled.append(response)
        return bool(stalled)

    try:
        opened = client.command("open_case", {"case_id": "stall-1", "allegation_summary": "x"})
        assert opened.status_code == 200, opened.text
        locker.execute("BEGIN EXCLUSIVE")
        moved = client.command("start_case_review", {"case_id": "stall-1"})
        assert moved.status_code == 200, moved.text  # the write side does not need the views
        assert eventually(reports_stalled, 60)
        locker.execute("ROLLBACK")
        assert eventually(lambda: _ready(served), 60)
        position = moved.json()["commit_position"]
        summary = client.query("get_case_summary", {"case_id": "stall-1", "min_position": position})
        assert summary.status_code == 200, summary.text
        assert summary.json()["data"]["case_summary"]["status"] == "under_review"
    finally:
        locker.close()
        client.close()


def test_readyz_says_restarting_while_no_child_runs_then_ready_once_caught_up(
    served: Served,
) -> None:
    assert eventually(lambda: _ready(served), 60), served.log.read_text()
    first = _child_pid(served)
    assert first is not None
    restarting: list[httpx.Response] = []

    def reports_restarting() -> bool:
        response = httpx.get(f"{served.url}/readyz")
        if response.status_code == 503:
            restarting.append(response)
        return bool(restarting)

    os.kill(first, signal.SIGKILL)
    assert eventually(reports_restarting, 60), served.log.read_text()
    problem = restarting[0].json()
    assert problem["reason_code"] == "not_ready", problem
    assert "projection runner restarting" in problem["detail"], problem
    assert "ended with exit code -9" in problem["detail"], problem
    assert eventually(lambda: _ready(served), 60), served.log.read_text()
    assert _child_pid(served) not in (None, first)  # ready again: a new child caught up
    client = ApiClient(served.url, served.tokens["analyst"])
    try:
        answer = _open_and_read(client, "after-the-restart")
    finally:
        client.close()
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["case_summary"]["status"] == "opened"


def _allow_connections(url: str, allowed: bool) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allowed).lower()}")


def test_a_child_that_cannot_start_is_reported_stalled_with_the_reason_and_retried(
    tmp_path: Path, postgres_url: str
) -> None:
    started = start_serve(tmp_path, serve_env(tmp_path, outbox="off", readstore_url=postgres_url))
    stalled: list[httpx.Response] = []

    def reports_stalled() -> bool:
        response = httpx.get(f"{started.url}/readyz")
        if response.status_code == 503 and "projections_stalled" in response.text:
            stalled.append(response)
        return bool(stalled)

    try:
        assert eventually(lambda: _ready(started), 60), started.log.read_text()
        child = _child_pid(started)
        assert child is not None
        _allow_connections(postgres_url, False)  # serve keeps the connections it has
        os.kill(child, signal.SIGKILL)  # its restarts cannot open the read store

        assert eventually(reports_stalled, 60), started.log.read_text()
        detail = stalled[0].json()["detail"]
        assert "runner process cannot start" in detail, detail
        assert "not currently accepting connections" in detail, detail
        assert len(detail) < 500, detail  # bounded, whatever the child's error said
        report = read_report(_data_dir(started))
        assert report is not None
        assert (report.state, report.pid) == ("stalled", started.process.pid), report
        assert report.reason is not None
        assert "cannot start" in report.reason
        status = run(["projections", "status"], started.env)
        assert "stalled" in status.stdout, status.stdout + status.stderr
        assert "cannot start" in status.stdout, status.stdout

        _allow_connections(postgres_url, True)  # the next restart starts
        assert eventually(lambda: _ready(started), 60), started.log.read_text()
        log = started.log.read_text()
        assert "projection runner resumed" in log
        assert log.count("projection runner stalled") == 1, log  # said once, not every retry
        assert "unreadable message" not in log, log
        client = ApiClient(started.url, started.tokens["analyst"])
        try:
            answer = _open_and_read(client, "after-the-stall")
        finally:
            client.close()
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["case_summary"]["status"] == "opened"
    finally:
        _allow_connections(postgres_url, True)
        assert started.stop() == 0
