"""Transient is not poison: a read store that goes away for seconds while writes continue never
parks an event. The runner reports `stalled` with the reason, waits, and resumes where it
stopped; afterwards every view equals a fresh rebuild and nothing is parked. Real components:
the embedded event store, PostgreSQL refusing connections to the test database (its sessions
terminated), and SQLite with its file locked by another connection."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import psycopg
import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from tests.support.facts import (
    append,
    closed,
    evidence_reviewed,
    evidence_submitted,
    opened,
    review_started,
)
from tests.support.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.support.runners import caught_up_runner, dump

Outage = Callable[[float], None]


@pytest.fixture
def events(embedded_server: EmbeddedServer) -> Iterator[KurrentEventStore]:
    store = KurrentEventStore.connect(embedded_server.url)
    yield store
    store.close()


class Writes:
    """Cases written one after another in a thread (each case's five events) until stopped."""

    def __init__(self, events: KurrentEventStore) -> None:
        self._events = events
        self._stop = threading.Event()
        self.cases = 0
        self._thread = threading.Thread(target=self._write, daemon=True)

    def __enter__(self) -> Writes:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _write(self) -> None:
        while not self._stop.is_set():
            case_id = f"c{self.cases}"
            tenant = "t1" if self.cases % 3 else "t2"
            append(
                self._events,
                opened(case_id, tenant),
                review_started(case_id, tenant),
                evidence_submitted(case_id, "e1", f"wire {case_id}", tenant),
                evidence_reviewed(case_id, "e1", approve=self.cases % 2 == 0, tenant=tenant),
                closed(case_id, tenant),
            )
            self.cases += 1
            self._stop.wait(0.02)


class StallWatch:
    """Polls the runner's status in a thread; keeps every stall reason it saw."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self._runner = runner
        self._stop = threading.Event()
        self.reasons: list[str] = []
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> StallWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            status = self._runner.status()
            if status.stalled and status.stalled_reason:
                self.reasons.append(status.stalled_reason)


def survive_outages(
    events: KurrentEventStore,
    store: SqlProjectionStore,
    outage: Outage,
    durations: tuple[float, ...],
    tmp_path: Path,
) -> list[str]:
    """Run a runner through `outage(seconds)` for each duration while cases are written; check
    that it ends equal to a fresh rebuild with nothing parked; the stall reasons seen."""
    projections = all_projections()
    runner = ProjectionRunner(events, store, projections, RunnerSettings(batch_size=100))
    activate_unserved(store, projections)
    runner.start()
    try:
        with StallWatch(runner) as watch:
            with Writes(events) as writes:
                for seconds in durations:
                    time.sleep(1.0)  # the runner works normally in between
                    outage(seconds)
                time.sleep(0.5)
            head = events.head_position()
            assert runner.wait_until(head, timeout=120), runner.status()
        assert writes.cases > 0
    finally:
        runner.stop()
    store.close()  # this thread's connection died in the outage: read on a new one
    fresh = SqliteProjectionStore(tmp_path / "fresh.db")
    caught_up_runner(events, fresh, projections)
    assert dump(store) == dump(fresh)
    assert all(store.parked(p.id) == [] for p in projections)
    assert runner.status().stats["case_summary_v1"].parked == 0
    return watch.reasons


def refuse_connections(admin: psycopg.Connection[object], name: str, seconds: float) -> None:
    """PostgreSQL refuses connections to database `name` and ends its sessions, for `seconds`."""
    admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    time.sleep(seconds)
    admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


@pytest.mark.postgres
def test_a_postgresql_outage_while_writes_continue_stalls_the_runner_and_loses_nothing(
    events: KurrentEventStore, tmp_path: Path
) -> None:
    for url in postgres_database():
        name = url.rsplit("/", 1)[1]
        store = PostgresProjectionStore(url)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            outage = partial(refuse_connections, admin, name)
            try:
                reasons = survive_outages(events, store, outage, (2.0, 3.5, 5.0), tmp_path)
            finally:
                admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
                store.close()
        assert reasons, "the runner never reported itself stalled"
        assert all(r.startswith("PostgreSQL") for r in reasons), set(reasons)


def test_a_locked_sqlite_file_while_writes_continue_stalls_the_runner_and_loses_nothing(
    events: KurrentEventStore, tmp_path: Path
) -> None:
    path = tmp_path / "readmodels.db"
    store = SqliteProjectionStore(path)

    def lock_the_file(seconds: float) -> None:
        locker = sqlite3.connect(path, isolation_level=None, timeout=60)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            locker.execute("ROLLBACK")
        finally:
            locker.close()

    try:
        reasons = survive_outages(events, store, lock_the_file, (3.0, 3.0, 3.0), tmp_path)
    finally:
        store.close()
    assert reasons, "the runner never reported itself stalled"
    assert {r.split(":", 1)[0] for r in reasons} == {"SQLite SQLITE_BUSY"}
