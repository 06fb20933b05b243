"""Read-side benchmark: rebuild rate of all views into SQLite and PostgreSQL next to the raw
`$all` read rate through the client (same run, same store), append-to-visible lag, and memory
during a rebuild.

    .venv/bin/python -m bench.bench_rebuild --events 1000000 [--postgres URL] [--data-dir DIR]

Seeds catalogued case events (20 per case) into an embedded store run as its own process
(`caseledger eventstore serve`; kept in --data-dir, so a second run reuses them), then measures
in this process. The raw read rate is measured right before each rebuild and each rebuild is
compared with its own. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import psycopg

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.adapters.runtime import tune_gc
from caseledger.domain.application.ports import NO_STREAM, NewEvent
from caseledger.projections.catalogue import all_projections
from caseledger.projections.events import CATEGORIES
from caseledger.projections.ports import EventFeed
from caseledger.projections.rebuild import activate_unserved, switch_when_built
from caseledger.projections.runner import ProjectionRunner, RunnerSettings

EVENTS_PER_CASE = 20


def case_events(case_id: str, tenant: str) -> list[NewEvent]:
    """One case's history: opened, review, 8 evidence items submitted and reviewed, a risk
    proposal and its approval."""
    meta = orjson.dumps({"tenantId": tenant, "schemaVersion": 1, "occurredAt": "2025-01-01T00:00Z"})

    def event(type_: str, **payload: object) -> NewEvent:
        return NewEvent(
            type=type_, data=orjson.dumps({"case_id": case_id, **payload}), metadata=meta
        )

    history = [
        event(
            "case.opened",
            tenant_id=tenant,
            allegation_summary="undeclared offshore transfers",
            assigned_team="fraud",
            opened_by="user:ann",
        ),
        event("case.review_started", started_by="user:ann"),
    ]
    for i in range(8):
        history.append(
            event(
                "case.evidence_submitted",
                evidence_id=f"e{i}",
                title=f"Ledger {i}",
                text=f"wire transfer {i} of {case_id} to a shell company in Nauru",
                source_ref=None,
                submitted_by="user:ann",
            )
        )
    for i in range(8):
        verdict = "case.evidence_approved" if i % 2 == 0 else "case.evidence_rejected"
        history.append(event(verdict, evidence_id=f"e{i}", reviewed_by="user:rev", comment=None))
    proposal = {
        "proposal_id": "p1",
        "approval_request_id": "apr-1",
        "rationale": "ledger",
        "evidence_refs": ["e0"],
        "confidence": 0.9,
        "proposed_by_type": "agent",
        "proposed_by_id": "bot",
        "agent_name": "bot",
        "run_id": "r1",
        "policy_version": "default",
        "digest": "d",
    }
    history.append(
        event(
            "case.risk_update_proposed",
            current_risk_level=None,
            proposed_risk_level="high",
            **proposal,
        )
    )
    history.append(
        event(
            "case.risk_level_changed",
            proposal_id="p1",
            approval_request_id="apr-1",
            decision_id="dec-1",
            from_risk_level=None,
            to_risk_level="high",
            approved_by_actor_type="user",
            approved_by_actor_id="rev",
            policy_version="default",
        )
    )
    return history


def seed(url: str, events: int) -> float:
    """Append `events` (rounded to whole cases) with 4 writers; events/s."""
    cases = events // EVENTS_PER_CASE
    started = time.monotonic()

    def write(worker: int) -> None:
        store = KurrentEventStore.connect(url)
        for n in range(worker, cases, 4):
            case_id = f"c{n}-{uuid.uuid4().hex[:6]}"
            tenant = f"t{n % 10}"
            store.append(f"case-{tenant}_{case_id}", case_events(case_id, tenant), NO_STREAM)
        store.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    return cases * EVENTS_PER_CASE / (time.monotonic() - started)


def raw_read_rate(url: str) -> tuple[int, float]:
    """Events/s of a filtered `$all` catch-up subscription through the client, to the head."""
    store = KurrentEventStore.connect(url)
    head = store.head_position()
    count, started = 0, time.monotonic()
    subscription = store.subscribe_all(None, CATEGORIES)
    for event in subscription:
        count += 1
        if event.commit_position >= head:
            break
    elapsed = time.monotonic() - started
    subscription.stop()
    store.close()
    return count, count / elapsed


class MemorySampler:
    """Resident set size of this process, sampled every 0.25 s."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.samples.append(rss_mib())

    def at_quarters(self) -> str:
        """RSS at the start, each quarter of the run and the end, then the peak."""
        samples = self.samples or [rss_mib()]
        points = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in range(4)]
        shown = " / ".join(str(p) for p in [*points, samples[-1]])
        return f"{shown} MiB at 0/25/50/75/100 %, peak {max(samples)} MiB"


class GcPauses:
    """The interpreter's garbage collections while inside: a collection stops every thread of
    this process (the writer's append included), so a long one shows up as lag."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._started) * 1000))

    def summary(self) -> str:
        full = [ms for generation, ms in self.pauses if generation == 2]
        longest = max((ms for _, ms in self.pauses), default=0.0)
        return f"{len(self.pauses)} collections ({len(full)} full), longest {longest:.1f} ms"


def rss_mib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def rebuild_rate(
    url: str, store: SqlProjectionStore, serve_while_building: bool = False
) -> tuple[int, float, MemorySampler, GcPauses]:
    """`rebuild_from` through the gRPC client on `url`."""
    feed = KurrentEventStore.connect(url)
    try:
        return rebuild_from(feed, store, serve_while_building)
    finally:
        feed.close()


def rebuild_from(
    feed: EventFeed, store: SqlProjectionStore, serve_while_building: bool = False
) -> tuple[int, float, MemorySampler, GcPauses]:
    """A rebuild of every view: built beside (no version serves it yet), then switched to,
    its secondary indexes created at the switch, inside the time measured. With
    `serve_while_building` the views are activated at once instead (a new deployment: they
    serve while they catch up, so their indexes are kept row by row)."""
    projections = all_projections()
    runner = ProjectionRunner(feed, store, projections, RunnerSettings(batch_size=2000))
    if serve_while_building:
        activate_unserved(store, projections)
    started = time.monotonic()
    with MemorySampler() as memory, GcPauses() as pauses:
        assert runner.run_until_caught_up(timeout=3600)
        switch_when_built(store, projections)
    elapsed = time.monotonic() - started
    return runner.events_seen, runner.events_seen / elapsed, memory, pauses


Lags = tuple[tuple[float, float], tuple[float, float], tuple[float, float], GcPauses]


def lag_percentiles(url: str, store: SqlProjectionStore, samples: int) -> Lags:
    """(p50, p99) in ms from an append's start until a live runner has committed it, of the
    append itself (start to acknowledgement), and from the acknowledgement on (the read
    side's own share); and the garbage collections meanwhile."""
    feed = KurrentEventStore.connect(url)
    writer = KurrentEventStore.connect(url)
    runner = ProjectionRunner(feed, store, all_projections(), RunnerSettings(batch_size=2000))
    assert runner.run_until_caught_up(timeout=3600)
    runner = ProjectionRunner(feed, store, all_projections(), RunnerSettings(batch_size=2000))
    runner.start()
    warm_up_stream = f"case-t0_{uuid.uuid4().hex[:10]}"
    warm_up = writer.append(warm_up_stream, case_events("w", "t0")[:1], NO_STREAM)
    assert runner.wait_until(warm_up.commit_position, timeout=30)
    lags: list[float] = []
    appends: list[float] = []
    after_ack: list[float] = []
    with GcPauses() as pauses:
        for _ in range(samples):
            case_id = uuid.uuid4().hex[:10]
            started = time.perf_counter()
            result = writer.append(f"case-t0_{case_id}", case_events(case_id, "t0")[:1], NO_STREAM)
            acknowledged = time.perf_counter()
            assert runner.wait_until(result.commit_position, timeout=10)
            visible = time.perf_counter()
            lags.append((visible - started) * 1000)
            appends.append((acknowledged - started) * 1000)
            after_ack.append((visible - acknowledged) * 1000)
            time.sleep(0.01)
    runner.stop()
    feed.close()
    writer.close()
    return _p50_p99(lags), _p50_p99(appends), _p50_p99(after_ack), pauses


def _p50_p99(values: list[float]) -> tuple[float, float]:
    quantiles = statistics.quantiles(values, n=100)
    return quantiles[49], quantiles[98]


def postgres_store(admin_url: str) -> Iterator[PostgresProjectionStore]:
    name = f"caseledger_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    store = PostgresProjectionStore(admin_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def report_lag(report: Callable[[str, str], None], backend: str, lags: Lags) -> None:
    (p50, p99), (append50, append99), (ack50, ack99), pauses = lags
    report(f"append-to-visible lag, {backend}, all views", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    report(
        f"of which the append (start to ack), {backend}",
        f"p50 {append50:.1f} ms, p99 {append99:.1f} ms",
    )
    report(f"ack-to-visible (read side only), {backend}", f"p50 {ack50:.1f} ms, p99 {ack99:.1f} ms")
    report(f"garbage collections while sampling lag, {backend}", pauses.summary())


def report_rebuild(
    report: Callable[[str, str], None],
    backend: str,
    result: tuple[int, float, MemorySampler, GcPauses],
    raw: float,
) -> None:
    seen, rate, memory, pauses = result
    report(
        f"rebuild of all 6 views into {backend}",
        f"{rate:,.0f} events/s ({rate / raw:.2f}x raw) over {seen:,} events",
    )
    report(f"memory during the {backend} rebuild (RSS)", memory.at_quarters())
    report(f"garbage collections during the {backend} rebuild", pauses.summary())


class EventStoreProcess:
    """`caseledger eventstore serve` in a child process, so the server does not share this
    process's interpreter lock with the client and the projections."""

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"kurrentdb://127.0.0.1:{port}?tls=false"
        command = [
            sys.executable,
            "-m",
            "caseledger.adapters.cli.app",
            "eventstore",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the event store did not start")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--lag-samples", type=int, default=500)
    parser.add_argument(
        "--keep-read-models", action="store_true", help="keep the SQLite read models afterwards"
    )
    parser.add_argument(
        "--serve-while-building",
        action="store_true",
        help="activate the views before building them (a new deployment: indexes kept per row) "
        "instead of switching to them once built (a rebuild: indexes created at the switch)",
    )
    parser.add_argument(
        "--only",
        choices=["sqlite", "postgres"],
        default=None,
        help="measure one store only (quick A/B runs)",
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="caseledger-bench-"))
    (data_dir / "eventstore").mkdir(parents=True, exist_ok=True)
    server = EventStoreProcess(data_dir / "eventstore")
    rows: list[tuple[str, str]] = []

    def report(measure: str, result: str) -> None:
        rows.append((measure, result))
        print(f"{measure}: {result}", flush=True)

    try:
        existing = KurrentEventStore.connect(server.url)
        has_events = existing.head_position() > 0
        existing.close()
        if not has_events:
            report(
                "seed (4 writers, 20-event batch appends)",
                f"{seed(server.url, args.events):,.0f} events/s",
            )
        tune_gc()  # where the entry points call it: start-up done, the work begins

        def raw_now(before: str) -> float:
            """The raw rate right before a rebuild: the machine's load drifts within a run."""
            count, raw = raw_read_rate(server.url)
            report(
                f"raw `$all` read through the client, before the {before} rebuild",
                f"{raw:,.0f} events/s over {count:,} events",
            )
            return raw

        serving = args.serve_while_building
        if args.only in (None, "sqlite"):
            raw = raw_now("SQLite")
            sqlite_path = data_dir / f"readmodels-{uuid.uuid4().hex[:6]}.db"
            sqlite = SqliteProjectionStore(sqlite_path)
            report_rebuild(report, "SQLite", rebuild_rate(server.url, sqlite, serving), raw)
            if args.lag_samples:
                report_lag(report, "SQLite", lag_percentiles(server.url, sqlite, args.lag_samples))
            sqlite.close()
            if not args.keep_read_models:
                for leftover in data_dir.glob(f"{sqlite_path.name}*"):
                    leftover.unlink()
        for store in postgres_store(args.postgres) if args.only in (None, "postgres") else []:
            raw = raw_now("PostgreSQL")
            report_rebuild(report, "PostgreSQL", rebuild_rate(server.url, store, serving), raw)
            if args.lag_samples:
                lags = lag_percentiles(server.url, store, args.lag_samples)
                report_lag(report, "PostgreSQL", lags)
    finally:
        server.stop()
    print("\n| measure | result |\n|---|---|")
    for key, value in rows:
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
