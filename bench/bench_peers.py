"""caseledger's durable command next to the `eventsourcing` library's, in one run; then the
read side's figures: a rebuild of every view in process and over gRPC, append-to-visible.

    flock /tmp/caseledger-heavy.lock .venv/bin/python -m bench.bench_peers [--block 200]
        [--rounds 5] [--events 1000000] [--rebuild-rounds 1] [--lag-samples 500] [--only http]

The command is one event on a warm aggregate, acknowledged only once durable:
- caseledger: `create_analyst_brief` through `App.commands` (bootstrap on a durable data dir,
  SQLite read store), on the embedded store in process (`CASELEDGER_EMBEDDED_PATH=inprocess`)
  without the projection runner, with it in a thread of the process (`bootstrap()`'s default),
  and with it in a child process (`CASELEDGER_RUNNER_IN=child`: as `caseledger serve` runs
  it), and over the gRPC path with the runner in a thread (the path before #28); after each
  block the runner's views are waited for, outside the timing, so no block pays for another's
  projection;
- `eventsourcing` 9.5: an `Application` whose command is `repository.get` + one event + `save`
  (aggregate cache on, so the aggregate is warm as caseledger's is), on SQLite (file, WAL) and
  on PostgreSQL (127.0.0.1:5432, its own database, dropped after);
- over HTTP: `caseledger serve` in a child process (`bench.peers_http`; its runner in a child
  process of its own), the same command posted by 1 httpx client and by 8 concurrent ones
  (threads), each keeping its connection open and working on its own case; set beside the
  Python API with the runner in a child process, from 1 thread and from 8 (each its own case
  too).

Rows take turns in blocks of `--block` commands, `--rounds` times; each row's figure is the
median of its blocks' rates, with the p50 and p99 of every command's latency in its blocks.
`--only WORDS` (repeatable) keeps the rows whose name holds any of them (`--only "no runner"
--only SQLite`); the others are not even started. `--cpu` adds each row's CPU time per command
by thread of this process (`/proc/self/task`, utime + stime, over its blocks and their
settling): what decides between variants on a busy machine, where block rates spread more
than a change moves them (the HTTP rows' server and a runner's child are other processes:
only this process's threads show).

Then, in turns, `--rebuild-rounds` rebuilds of every view into a new SQLite read store over one
store of `--events` events, in process and over gRPC (`bench.peers_rebuild`: seeded once, kept
under /tmp); and `--lag-samples` times, on the in-process apps with the runner in a thread and
in a child process, in turns: a case opened, then, from its acknowledgement, a
`get_case_summary` query with the command's position as `min_position` (the query side's
read-your-writes wait) until it answers with the case.

`--only WORD` (repeatable) runs only the rows whose name holds a word; `--cpu` adds each row's
CPU per command by thread. Whenever the HTTP rows and the two Python API rows they are set
beside (runner in a child process, 1 thread and `--clients` threads) ran, the two HTTP figures
the targets name follow the table: `--only http --only "runner in a child process"`.

Durability is asserted, not assumed: `PRAGMA synchronous` is FULL on caseledger's store and on
the peer's SQLite connection, and PostgreSQL has `fsync` and `synchronous_commit` on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
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
from caseledger.adapters.runner_process.supervisor import RunnerProcess
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
LAG_ROWS = {
    "thread": "runner in a thread (`bootstrap()`)",
    "child": "runner in a child process (as `serve`)",
}
"""The append-to-visible rows, by where the runner runs."""


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
def caseledger(
    directory: Path, path: str, runner: bool, runner_in: str = "thread"
) -> Iterator[tuple[App, Command]]:
    os.environ["CASELEDGER_EMBEDDED_PATH"] = path
    os.environ["CASELEDGER_RUNNER_IN"] = runner_in
    try:
        app = bootstrap(Settings(data_dir=directory), eventstore_port=0).start(runner=runner)
    finally:
        del os.environ["CASELEDGER_EMBEDDED_PATH"], os.environ["CASELEDGER_RUNNER_IN"]
    assert app.embedded is not None
    (synchronous,) = app.embedded.store.database.writer.execute("PRAGMA synchronous").fetchone()
    require(synchronous == FULL, "caseledger's store does not fsync each commit")
    require(isinstance(app.store, InProcessEventStore) == (path == "inprocess"), "wrong path")
    in_child = isinstance(app.runner, RunnerProcess)
    require(in_child == (runner_in == "child"), "the runner is not where the row says")
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

    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds by thread name over this row's blocks (with their settling)."""

    def block(self, size: int) -> None:
        before = thread_cpu()
        started = time.perf_counter()
        latencies = self.drive(size)
        self.rates.append(size / (time.perf_counter() - started))
        self.latencies += latencies
        self.settle()
        after = thread_cpu()
        for thread, seconds in after.items():
            self.cpu[thread] = self.cpu.get(thread, 0.0) + seconds - before.get(thread, 0.0)


_TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu(stat: str) -> float:
    """CPU seconds (user + system) in a `/proc/.../stat` file (a process's or a thread's)."""
    with open(stat) as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) each thread of this process has used, by name (threads of
    one name summed; threads not started by Python by their id)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    used: dict[str, float] = {}
    for task in os.listdir("/proc/self/task"):
        try:
            spent = stat_cpu(f"/proc/self/task/{task}/stat")
        except FileNotFoundError:  # ended meanwhile
            continue
        name = names.get(int(task), f"thread {task}")
        used[name] = used.get(name, 0.0) + spent
    return used


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
        "--only", action="append", default=[], help="keep rows whose name holds this (repeatable)"
    )
    parser.add_argument("--cpu", action="store_true", help="CPU per command by thread, per row")
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-peers-")))
        pool = stack.enter_context(ThreadPoolExecutor(args.clients))
        rows, lag_apps = _command_rows(stack, root, pool, args.clients, _wanted(args.only))
        tune_gc()  # as `caseledger serve` does once started
        for row in rows:  # warm up
            row.drive(50)
            row.settle()
        for _ in range(args.rounds):
            for row in rows:
                row.block(args.block)
        _print_commands(rows, args)
        if args.cpu:
            _print_cpu(rows, args.block * args.rounds)
        _print_http_ratios(rows, args.clients)
        if args.rebuild_rounds:
            rebuilds = _rebuilds(args.events, args.rebuild_rounds, root, args.seed_cache)
            _print_rebuilds(rebuilds)
        if args.lag_samples:
            require(bool(lag_apps), "the lag rows need an in-process row with the runner")
            _print_lag(append_to_visible(lag_apps, args.lag_samples))


def _wanted(only: Sequence[str]) -> Callable[[str], bool]:
    return lambda name: not only or any(word in name for word in only)


API_ROW = "caseledger, in process, runner on (as `serve`)"
HTTP_ROW = "caseledger over HTTP (`serve`), 1 kept-alive httpx client"


API_ROW = "caseledger, in process, runner in a child process (as `serve`)"
HTTP_ROW = "caseledger over HTTP (`serve`, runner in its child), 1 kept-alive httpx client"


def api_threads_row(clients: int) -> str:
    return f"caseledger, in process, runner in a child process, {clients} threads"


def http_clients_row(clients: int) -> str:
    return f"caseledger over HTTP (`serve`), {clients} concurrent kept-alive httpx clients"


def _command_rows(
    stack: ExitStack,
    root: Path,
    pool: ThreadPoolExecutor,
    clients: int,
    wanted: Callable[[str], bool],
) -> tuple[list[Row], dict[str, App]]:
    rows: list[Row] = []
    lag_apps: dict[str, App] = {}
    for name, path, runner, runner_in in (
        ("caseledger, in process, no runner", "inprocess", False, "thread"),
        ("caseledger, in process, runner in a thread (`bootstrap()`)", "inprocess", True,
         "thread"),
        (API_ROW, "inprocess", True, "child"),
        ("caseledger, over gRPC, runner in a thread (before #28)", "grpc", True, "thread"),
    ):  # fmt: skip
        threaded = api_threads_row(clients)
        has_threaded = path == "inprocess" and runner_in == "child"
        if not (wanted(name) or (has_threaded and wanted(threaded))):
            continue
        directory = root / f"caseledger-{path}-{runner_in if runner else 'alone'}"
        app, hot = stack.enter_context(caseledger(directory, path, runner, runner_in))
        settle = _settle(app) if runner else lambda: None
        if wanted(name):
            rows.append(Row(name, one_by_one(hot), settle))
        if path == "inprocess" and runner:
            lag_apps[LAG_ROWS[runner_in]] = app
        if has_threaded and wanted(threaded):
            threads = [_brief_on(app, f"hot-{n}") for n in range(clients)]
            rows.append(Row(threaded, side_by_side(threads, pool), settle))
    rows += _http_rows(stack, root, pool, clients, wanted)
    if wanted(name := "eventsourcing 9.5, SQLite file (WAL)"):
        rows.append(Row(name, one_by_one(stack.enter_context(peer_on_sqlite(root)))))
    if wanted(name := "eventsourcing 9.5, PostgreSQL"):
        rows.append(Row(name, one_by_one(stack.enter_context(peer_on_postgres()))))
    return rows, lag_apps


def _http_rows(
    stack: ExitStack,
    root: Path,
    pool: ThreadPoolExecutor,
    clients: int,
    wanted: Callable[[str], bool],
) -> list[Row]:
    one, many = HTTP_ROW, http_clients_row(clients)
    if not (wanted(one) or wanted(many)):
        return []
    rows = []
    serve = Serve(root / "serve")
    stack.callback(serve.stop)
    client = stack.enter_context(serve.client())
    serve.open_case(client, "hot")
    settle_serve = lambda: serve.settle(client, "hot")  # noqa: E731
    if wanted(one):
        rows.append(Row(one, one_by_one(lambda: serve.brief(client, "hot")), settle_serve))
    if wanted(many):
        commands: list[Command] = []
        for n in range(clients):
            own = stack.enter_context(serve.client())
            serve.open_case(own, f"hot-{n}")
            commands.append(lambda own=own, case=f"hot-{n}": serve.brief(own, case))  # type: ignore[misc]
        rows.append(Row(many, side_by_side(commands, pool), settle_serve))
    return rows


def _print_commands(rows: Sequence[Row], args: argparse.Namespace) -> None:
    print(f"| what | commands/s (median of {args.rounds} blocks of {args.block}) | p50 / p99 ms "
          "| blocks |")  # fmt: skip
    print("|---|---|---|---|")
    for row in rows:
        spread = ", ".join(f"{r:,.0f}" for r in row.rates)
        p50, p99 = percentiles(row.latencies)
        print(f"| {row.name} | {statistics.median(row.rates):,.0f} | {p50:.2f} / {p99:.2f} "
              f"| {spread} |")  # fmt: skip


def _print_cpu(rows: Sequence[Row], commands: int) -> None:
    """Each row's CPU µs per command by thread (threads under 5 µs left out)."""
    print(f"\n| what | CPU µs per command, by thread (over {commands:,} commands) | all threads |")
    print("|---|---|---|")
    for row in rows:
        per = {t: s / commands * 1e6 for t, s in row.cpu.items() if s / commands * 1e6 >= 5}
        shown = ", ".join(f"{t} {us:,.0f}" for t, us in sorted(per.items(), key=lambda i: -i[1]))
        print(f"| {row.name} | {shown} | {sum(per.values()):,.0f} |")


def _print_http_ratios(rows: Sequence[Row], clients: int) -> None:
    """The HTTP targets' two figures, when their rows ran: the 1-client p50 over the Python
    API's (runner in a child process, as `serve`), and the concurrent clients' rate over the
    API's from as many threads."""
    at = {row.name: row for row in rows}
    names = (API_ROW, api_threads_row(clients), HTTP_ROW, http_clients_row(clients))
    if not all(name in at for name in names):
        return
    api, api_threads, http, http_clients = (at[name] for name in names)
    extra = percentiles(http.latencies)[0] - percentiles(api.latencies)[0]
    ratio = statistics.median(http_clients.rates) / statistics.median(api_threads.rates)
    print(
        f"\nHTTP: 1 client's p50 = the API's + {extra:.2f} ms (target <= +1.5 ms); "
        f"{clients} concurrent clients {ratio:.2f}x the API from as many threads "
        "(target >= 0.5x)"
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


def append_to_visible(apps: dict[str, App], samples: int) -> dict[str, list[float]]:
    """Per app, in turns: seconds from a command's acknowledgement until the query side
    answers with its row."""
    lags: dict[str, list[float]] = {name: [] for name in apps}
    for n in range(samples):
        for name, app in apps.items():
            case_id = f"lag-{n}-{uuid.uuid4().hex[:6]}"
            opening = {"case_id": case_id, "allegation_summary": "Unlicensed lending, 40%/month"}
            result = accepted(app.commands.handle(command("open_case", opening)))
            acknowledged = time.perf_counter()
            answer = app.queries.handle(_case_summary(case_id, result.commit_position))
            lags[name].append(time.perf_counter() - acknowledged)
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


def _print_lag(lags: dict[str, list[float]]) -> None:
    print(
        "\n| append-to-visible, in process (ack to the query's answer): `open_case`, then "
        "`get_case_summary` with `min_position` | samples | p50 / p99 ms |"
    )
    print("|---|---|---|")
    for name, seconds in lags.items():
        p50, p99 = percentiles(seconds)
        print(f"| {name} | {len(seconds)} | {p50:.2f} / {p99:.2f} |")


def _settle(app: App) -> Callable[[], None]:
    def settle() -> None:
        if not app.wait_for_views(app.store.head_position(CATEGORIES), timeout=120):
            raise RuntimeError("the runner did not catch up within 120 s")

    return settle


if __name__ == "__main__":
    main()
