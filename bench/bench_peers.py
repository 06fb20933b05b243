"""caseledger's durable command next to the `eventsourcing` library's, in one run.

    flock /tmp/caseledger-heavy.lock .venv/bin/python -m bench.bench_peers [--block 200]

The command is one event on a warm aggregate, acknowledged only once durable:
- caseledger: `create_analyst_brief` through `App.commands` (bootstrap on a durable data dir,
  SQLite read store), on the embedded store in process (`CASELEDGER_EMBEDDED_PATH=inprocess`)
  without and with the projection runner (as `caseledger serve` runs), and over the gRPC path
  with the runner (the path before #28); after each block the runner's views are waited for,
  outside the timing, so no block pays for another's projection;
- `eventsourcing` 9.5: an `Application` whose command is `repository.get` + one event + `save`
  (aggregate cache on, so the aggregate is warm as caseledger's is), on SQLite (file, WAL) and
  on PostgreSQL (127.0.0.1:5432, its own database, dropped after).
Rows take turns in blocks of `--block` commands, `--rounds` times; each row's figure is the
median of its blocks' rates. Durability is asserted, not assumed: `PRAGMA synchronous` is FULL
on caseledger's store and on the peer's SQLite connection, and PostgreSQL has `fsync` and
`synchronous_commit` on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.bench_write_side import accepted, brief, open_case
from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.settings import Settings
from caseledger.projections.events import CATEGORIES

POSTGRES = os.environ.get(
    "CASELEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FULL = 2
"""`PRAGMA synchronous` FULL."""

Command = Callable[[], object]


def require(condition: bool, failure: str) -> None:
    """A precondition of a fair comparison (kept under `python -O`, unlike assert)."""
    if not condition:
        raise RuntimeError(failure)


# ---- the peer: an eventsourcing Application ---------------------------------------------------


class Case(Aggregate):
    @event("Opened")
    def __init__(self, summary: str) -> None:
        self.summary = summary
        self.briefs = 0

    @event("BriefCreated")
    def create_brief(self, brief_id: str, title: str, body: str) -> None:
        self.briefs += 1


class Cases(Application[uuid.UUID]):
    def open(self, summary: str) -> uuid.UUID:
        case = Case(summary)
        self.save(case)
        return case.id

    def create_brief(self, case_id: uuid.UUID, n: int) -> None:
        case: Case = self.repository.get(case_id)
        case.create_brief(f"b{n}", "Finding", "x" * 200)
        self.save(case)


def _peer_command(app: Cases) -> Command:
    case_id = app.open("Unlicensed lending at 40% a month")
    counter = iter(range(10**9))
    return lambda: app.create_brief(case_id, next(counter))


@contextmanager
def peer_on_sqlite(directory: Path) -> Iterator[Command]:
    app = Cases(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / "peer.sqlite3"),
            "AGGREGATE_CACHE_MAXSIZE": "100",
        }
    )
    command = _peer_command(app)
    datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA journal_mode")
        require(cursor.fetchone()[0] == "wal", "the peer's SQLite is not in WAL mode")
        cursor.execute("PRAGMA synchronous")
        require(cursor.fetchone()[0] == FULL, "the peer's SQLite does not fsync each commit")
    try:
        yield command
    finally:
        app.close()


@contextmanager
def peer_on_postgres() -> Iterator[Command]:
    database = f"bench_peers_{os.getpid()}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        for setting in ("fsync", "synchronous_commit"):
            value = admin.execute(f"SHOW {setting}").fetchone()
            require(value is not None and value[0] == "on", f"PostgreSQL {setting} is not on")
        admin.execute(f"CREATE DATABASE {database}")
    info = psycopg.conninfo.conninfo_to_dict(POSTGRES)
    app = Cases(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": database,
            "POSTGRES_HOST": str(info.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(info.get("port", "5432")),
            "POSTGRES_USER": str(info.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(info.get("password", "")),
            "AGGREGATE_CACHE_MAXSIZE": "100",
        }
    )
    try:
        yield _peer_command(app)
    finally:
        app.close()
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


# ---- caseledger --------------------------------------------------------------------------------


@contextmanager
def caseledger(directory: Path, path: str, runner: bool) -> Iterator[tuple[App, Command]]:
    os.environ["CASELEDGER_EMBEDDED_PATH"] = path
    try:
        app = bootstrap(Settings(data_dir=directory), eventstore_port=0).start(runner=runner)
    finally:
        del os.environ["CASELEDGER_EMBEDDED_PATH"]
    assert app.embedded is not None
    (synchronous,) = app.embedded.store.database.writer.execute("PRAGMA synchronous").fetchone()
    require(synchronous == FULL, "caseledger's store does not fsync each commit")
    require(isinstance(app.store, InProcessEventStore) == (path == "inprocess"), "wrong path")
    open_case(app.commands, "hot")
    try:
        yield app, lambda: accepted(app.commands.handle(brief("hot")))
    finally:
        app.close()


# ---- the run ------------------------------------------------------------------------------------


def block_rate(command: Command, block: int) -> float:
    start = time.perf_counter()
    for _ in range(block):
        command()
    return block / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--block", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-peers-")))
        rows: dict[str, tuple[Command, Callable[[], None]]] = {}
        for name, path, runner in (
            ("caseledger, in process, no runner", "inprocess", False),
            ("caseledger, in process, runner on (as `serve`)", "inprocess", True),
            ("caseledger, over gRPC, runner on (before #28)", "grpc", True),
        ):
            directory = root / f"caseledger-{path}-{'runner' if runner else 'alone'}"
            app, command = stack.enter_context(caseledger(directory, path, runner))
            rows[name] = (command, _settle(app) if runner else lambda: None)
        rows["eventsourcing 9.5, SQLite file (WAL)"] = (
            stack.enter_context(peer_on_sqlite(root)),
            lambda: None,
        )
        rows["eventsourcing 9.5, PostgreSQL"] = (
            stack.enter_context(peer_on_postgres()),
            lambda: None,
        )
        rates: dict[str, list[float]] = {name: [] for name in rows}
        for command, settle in rows.values():  # warm up
            block_rate(command, 50)
            settle()
        for _ in range(args.rounds):
            for name, (command, settle) in rows.items():
                rates[name].append(block_rate(command, args.block))
                settle()
        print(f"| what | commands/s (median of {args.rounds} blocks of {args.block}) | blocks |")
        print("|---|---|---|")
        for name, measured in rates.items():
            spread = ", ".join(f"{r:,.0f}" for r in measured)
            print(f"| {name} | {statistics.median(measured):,.0f} | {spread} |")


def _settle(app: App) -> Callable[[], None]:
    def settle() -> None:
        if not app.wait_for_views(app.store.head_position(CATEGORIES), timeout=120):
            raise RuntimeError("the runner did not catch up within 120 s")

    return settle


if __name__ == "__main__":
    main()
