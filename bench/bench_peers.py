"""caseledger's durable command next to the `eventsourcing` library's, in one run; then the
read side's figures: a rebuild of every view in process and over gRPC, append-to-visible.

    flock /tmp/caseledger-heavy.lock .venv/bin/python -m bench.bench_peers [--block 200]
        [--rounds 5] [--events 1000000] [--rebuild-rounds 1] [--lag-samples 500] [--only http]

The command is one event on a warm aggregate, acknowledged only once durable:
- caseledger: `create_analyst_brief` through `App.commands` (bootstrap on a durable data dir,
  SQLite read store), on the embedded store in process (`CASELEDGER_EMBEDDED_PATH=inprocess`)
  without and with the projection runner (as `caseledger serve` runs), and over the gRPC path
  with the runner (the path before #28); after each block the runner's views are waited for,
  outside the timing, so no block pays for another's projection;
- `eventsourcing` 9.5: an `Application` whose command is `repository.get` + one event + `save`
  (aggregate cache on, so the aggregate is warm as caseledger's is), on SQLite (file, WAL) and
  on PostgreSQL (127.0.0.1:5432, its own database, dropped after);
- over HTTP: `caseledger serve` in a child process (`bench.peers_http`), the same command posted
  by 1 httpx client and by 8 concurrent ones (threads), each keeping its connection open and
  working on its own case; set beside the Python API with the runner on, from 1 thread and
  from 8 (each its own case too).

Rows take turns in blocks of `--block` commands, `--rounds` times; each row's figure is the
median of its blocks' rates, with the p50 and p99 of every command's latency in its blocks.

Then, in turns, `--rebuild-rounds` rebuilds of every view into a new SQLite read store over one
store of `--events` events, in process and over gRPC (`bench.peers_rebuild`: seeded once, kept
under /tmp); and `--lag-samples` times, on the in-process runner-on row's app: a case opened,
then, from its acknowledgement, a `get_case_summary` query with the command's position as
`min_position` (the query side's read-your-writes wait) until it answers with the case.

`--only http` runs the HTTP rows and the two Python API rows they are set beside (runner on,
1 thread and `--clients` threads), then the two HTTP figures the targets name.

Durability is asserted, not assumed: `PRAGMA synchronous` is FULL on caseledger's store and on
the peer's SQLite connection, and PostgreSQL has `fsync` and `synchronous_commit` on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.bench_write_side import accepted, brief, command, open_case
from bench.peers_http import Serve
from bench.peers_rebuild import Rebuilt, serving
from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.runtime import tune_gc
from caseledger.adapters.settings import Settings
from caseledger.domain.shared.actors import ActorType, Role
from caseledger.domain.shared.envelopes import QueryEnvelope
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
    try:
        yield app, _brief_on(app, "hot")
    finally:
        app.close()


def _brief_on(app: App, case_id: str) -> Command:
    """The bench's command on `case_id`, opened (and warmed) first."""
    open_case(app.commands, case_id)
    return lambda: accepted(app.commands.handle(brief(case_id)))


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Row:
    """A row of the table: `drive(n)` issues n commands and gives each one's latency (s)."""

    name: str
    drive: Callable[[int], list[float]]
    settle: Callable[[], None] = lambda: None
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def block(self, size: int) -> None:
        started = time.perf_counter()
        latencies = self.drive(size)
        self.rates.append(size / (time.perf_counter() - started))
        self.latencies += latencies
        self.settle()


def one_by_one(command: Command) -> Callable[[int], list[float]]:
    def drive(size: int) -> list[float]:
        latencies = []
        for _ in range(size):
            started = time.perf_counter()
            command()
            latencies.append(time.perf_counter() - started)
        return latencies

    return drive


def side_by_side(
    commands: Sequence[Command], pool: ThreadPoolExecutor
) -> Callable[[int], list[float]]:
    """`size` commands shared among `commands`, each run one by one in a thread of its own."""

    def drive(size: int) -> list[float]:
        share = max(1, size // len(commands))
        runs = [pool.submit(one_by_one(c), share) for c in commands]
        return [latency for run in runs for latency in run.result()]

    return drive


def percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    """(p50, p99) in ms."""
    cuts = statistics.quantiles([s * 1000 for s in seconds], n=100)
    return cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--block", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients and threads")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to rebuild from")
    parser.add_argument("--rebuild-rounds", type=int, default=1, help="0: no rebuild rows")
    parser.add_argument("--lag-samples", type=int, default=500, help="0: no lag row")
    parser.add_argument(
        "--seed-cache", type=Path, default=None, help="where seeded stores are kept (/tmp)"
    )
    parser.add_argument(
        "--only",
        choices=["http"],
        default=None,
        help="http: only the HTTP rows and the Python API rows they are set beside",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-peers-")))
        pool = stack.enter_context(ThreadPoolExecutor(args.clients))
        rows, lag_app = _command_rows(
            stack, root, pool, args.clients, http_only=args.only == "http"
        )
        tune_gc()  # as `caseledger serve` does once started
        for row in rows:  # warm up
            row.drive(50)
            row.settle()
        for _ in range(args.rounds):
            for row in rows:
                row.block(args.block)
        _print_commands(rows, args)
        _print_http_ratios(rows)
        if args.rebuild_rounds:
            rebuilds = _rebuilds(args.events, args.rebuild_rounds, root, args.seed_cache)
            _print_rebuilds(rebuilds)
        if args.lag_samples:
            _print_lag(append_to_visible(lag_app, args.lag_samples))


API_ROW = "caseledger, in process, runner on (as `serve`)"
HTTP_ROW = "caseledger over HTTP (`serve`), 1 kept-alive httpx client"


def _command_rows(
    stack: ExitStack, root: Path, pool: ThreadPoolExecutor, clients: int, *, http_only: bool
) -> tuple[list[Row], App]:
    rows: list[Row] = []
    for name, path, runner in (
        ("caseledger, in process, no runner", "inprocess", False),
        (API_ROW, "inprocess", True),
        ("caseledger, over gRPC, runner on (before #28)", "grpc", True),
    ):
        if http_only and name != API_ROW:
            continue
        directory = root / f"caseledger-{path}-{'runner' if runner else 'alone'}"
        app, hot = stack.enter_context(caseledger(directory, path, runner))
        settle = _settle(app) if runner else lambda: None
        rows.append(Row(name, one_by_one(hot), settle))
        if path == "inprocess" and runner:
            lag_app = app
            threads = [_brief_on(app, f"hot-{n}") for n in range(clients)]
            name = f"caseledger, in process, runner on, {clients} threads"
            rows.append(Row(name, side_by_side(threads, pool), settle))
    serve = Serve(root / "serve")
    stack.callback(serve.stop)
    client = stack.enter_context(serve.client())
    serve.open_case(client, "hot")
    settle_serve = lambda: serve.settle(client, "hot")  # noqa: E731
    rows.append(Row(HTTP_ROW, one_by_one(lambda: serve.brief(client, "hot")), settle_serve))
    commands: list[Command] = []
    for n in range(clients):
        own = stack.enter_context(serve.client())
        serve.open_case(own, f"hot-{n}")
        commands.append(lambda own=own, case=f"hot-{n}": serve.brief(own, case))  # type: ignore[misc]
    name = f"caseledger over HTTP (`serve`), {clients} concurrent kept-alive httpx clients"
    rows.append(Row(name, side_by_side(commands, pool), settle_serve))
    if http_only:
        return rows, lag_app
    peer = stack.enter_context(peer_on_sqlite(root))
    rows.append(Row("eventsourcing 9.5, SQLite file (WAL)", one_by_one(peer)))
    rows.append(
        Row("eventsourcing 9.5, PostgreSQL", one_by_one(stack.enter_context(peer_on_postgres())))
    )
    return rows, lag_app


def _print_commands(rows: Sequence[Row], args: argparse.Namespace) -> None:
    print(f"| what | commands/s (median of {args.rounds} blocks of {args.block}) | p50 / p99 ms "
          "| blocks |")  # fmt: skip
    print("|---|---|---|---|")
    for row in rows:
        spread = ", ".join(f"{r:,.0f}" for r in row.rates)
        p50, p99 = percentiles(row.latencies)
        print(f"| {row.name} | {statistics.median(row.rates):,.0f} | {p50:.2f} / {p99:.2f} "
              f"| {spread} |")  # fmt: skip


def _print_http_ratios(rows: Sequence[Row]) -> None:
    """The HTTP targets' two figures: the 1-client p50 over the Python API's, and the
    concurrent clients' rate over the API's from as many threads (each the row after)."""
    at = {row.name: n for n, row in enumerate(rows)}
    api, http = at[API_ROW], at[HTTP_ROW]
    extra = percentiles(rows[http].latencies)[0] - percentiles(rows[api].latencies)[0]
    concurrent = statistics.median(rows[http + 1].rates)
    ratio = concurrent / statistics.median(rows[api + 1].rates)
    print(
        f"\nHTTP: 1 client's p50 = the API's + {extra:.2f} ms (target <= +1.5 ms); "
        f"concurrent clients {ratio:.2f}x the API from as many threads (target >= 0.5x)"
    )


def _rebuilds(events: int, rounds: int, root: Path, cache: Path | None) -> dict[str, list[Rebuilt]]:
    done: dict[str, list[Rebuilt]] = {"inprocess": [], "grpc": []}
    with serving(events, cache) as store:
        for _ in range(rounds):
            for path, results in done.items():
                results.append(store.rebuild(path, root))
    return done


def _print_rebuilds(done: dict[str, list[Rebuilt]]) -> None:
    print("\n| rebuild of every view into SQLite | events | events/s (median) | runs |")
    print("|---|---|---|---|")
    medians = {}
    for path, results in done.items():
        medians[path] = statistics.median(r.rate for r in results)
        runs = ", ".join(f"{r.rate:,.0f}" for r in results)
        print(f"| {path} | {results[0].events:,} | {medians[path]:,.0f} | {runs} |")
    print(f"\nin process / over gRPC: {medians['inprocess'] / medians['grpc']:.2f}x")


def append_to_visible(app: App, samples: int) -> list[float]:
    """Seconds from a command's acknowledgement until the query side answers with its row."""
    lags = []
    for n in range(samples):
        case_id = f"lag-{n}-{uuid.uuid4().hex[:6]}"
        opening = {"case_id": case_id, "allegation_summary": "Unlicensed lending at 40% a month"}
        result = accepted(app.commands.handle(command("open_case", opening)))
        acknowledged = time.perf_counter()
        answer = app.queries.handle(_case_summary(case_id, result.commit_position))
        lags.append(time.perf_counter() - acknowledged)
        require(answer.status == "ok", f"the case is not in its view: {answer}")
        time.sleep(0.005)
    return lags


def _case_summary(case_id: str, position: int | None) -> QueryEnvelope:
    return QueryEnvelope(
        query_id=uuid.uuid4().hex,
        query_type="get_case_summary",
        tenant_id="t1",
        requested_by_actor_type=ActorType.USER,
        requested_by_actor_id="alice",
        requested_by_roles=frozenset({Role.ANALYST}),
        correlation_id="bench",
        payload_schema="get_case_summary.v1",
        payload={"case_id": case_id, "min_position": position, "max_wait_ms": 5000},
    )


def _print_lag(lags: list[float]) -> None:
    p50, p99 = percentiles(lags)
    print(
        "\n| append-to-visible, in process (ack to the query's answer) | samples | p50 / p99 ms |"
    )
    print("|---|---|---|")
    print(f"| `open_case`, then `get_case_summary` with `min_position` | {len(lags)} "
          f"| {p50:.2f} / {p99:.2f} |")  # fmt: skip


def _settle(app: App) -> Callable[[], None]:
    def settle() -> None:
        if not app.wait_for_views(app.store.head_position(CATEGORIES), timeout=120):
            raise RuntimeError("the runner did not catch up within 120 s")

    return settle


if __name__ == "__main__":
    main()
