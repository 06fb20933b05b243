"""Write-side benchmarks: commands through the application service on the embedded store, each
next to its baseline measured in the same run.

    .venv/bin/python -m bench.bench_write_side [--samples 500] [--sizes 10,100,1000,10000]
    .venv/bin/python -m bench.bench_write_side --agents-only [--samples 500]

The store runs as its own process (`caseledger eventstore serve`, durable data dir); the
service and the bare client run in this one. A "command" is `create_analyst_brief` on an
existing case, warm: decide on the cached case and policy, append at the cached revision with a
check that the policy is unchanged (one unary `AppendRecords` call; every 25 events, a
snapshot). Two bare baselines append an event of the same size at an exact expected version
with the same client library: `append_to_stream` (v1 Append, a client stream) and
`append_records` with the stream's revision as its check (v2, unary; the command's own call).
Long case histories are made by the service itself on the in-memory fake, then copied into
the store with the same ids and metadata (500 per append).
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from kurrentdbclient import KurrentDBClient, NewRecord, StreamState, StreamStateCheck
from kurrentdbclient import NewEvent as KurrentNewEvent

from bench.bench_eventstore import bare_stream_rate, free_port, pct, port_open, process
from caseledger.adapters.background import ThreadBackground
from caseledger.adapters.command_stack import command_service
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.domain.application.aggregates import CASE, POLICY
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.loading import Loaded, fold, load
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    CommandHandler,
    EventStore,
    NewEvent,
    StreamRead,
)
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.service import CommandService
from caseledger.domain.application.snapshots import SnapshotPolicy, encode, snapshot_stream
from caseledger.domain.case.state import CaseState
from caseledger.domain.shared.actors import ActorType, Role
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.memory_store import InMemoryEventStore

_keys = itertools.count()
Row = tuple[str, str, str, str]
SNAPSHOT_EVERY: int = inspect.signature(command_service).parameters["snapshot_every"].default
"""The service's default: the least gap between a stream's snapshots."""
SNAPSHOTS = SnapshotPolicy(SNAPSHOT_EVERY)
"""The service's policy: a stream of n events is `SNAPSHOTS.gap(n)` events ahead of its latest
snapshot at most (one event a command), `SNAPSHOTS.most` whatever its length; on average about
half."""


def command(command_type: str, payload: Mapping[str, object]) -> CommandEnvelope:
    key = f"bench-{next(_keys)}"
    return CommandEnvelope(
        command_id=key,
        command_type=command_type,
        tenant_id="t1",
        requested_by_actor_type=ActorType.USER,
        requested_by_actor_id="alice",
        requested_by_roles=frozenset({Role.ANALYST}),
        correlation_id="bench",
        idempotency_key=key,
        payload_schema=f"{command_type}.v1",
        payload=dict(payload),
    )


def brief(case_id: str) -> CommandEnvelope:
    n = next(_keys)
    return command(
        "create_analyst_brief",
        {"case_id": case_id, "brief_id": f"b{n}", "title": "Finding", "body": "x" * 200},
    )


def accepted(result: CommandResult) -> CommandResult:
    if result.status is not CommandOutcome.ACCEPTED:
        raise RuntimeError(f"{result.status}: {result.reason_code} {result.reason}")
    return result


def open_case(service: CommandHandler, case_id: str) -> None:
    opening = {"case_id": case_id, "allegation_summary": "Unlicensed lending at 40% a month"}
    accepted(service.handle(command("open_case", opening)))
    accepted(service.handle(command("start_case_review", {"case_id": case_id})))


def seed_case(store: EventStore, case_id: str, events: int) -> None:
    """A case of `events` events (opened, under review, briefs) written by the service on the
    in-memory fake, copied into `store` as they are."""
    fake = InMemoryEventStore()
    service = command_service(fake, snapshot_every=0)
    open_case(service, case_id)
    for _ in range(events - 2):
        accepted(service.handle(brief(case_id)))
    recorded = fake.read_stream(CASE.stream("t1", case_id))
    for start in range(0, len(recorded), 500):
        batch = [
            NewEvent(r.type, r.data, r.metadata, r.content_type, r.id)
            for r in recorded[start : start + 500]
        ]
        store.append(CASE.stream("t1", case_id), batch, start - 1)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


# ---- command vs bare append -------------------------------------------------------------------


def bare_appends(client: KurrentDBClient, n: int, sample: NewEvent) -> list[float]:
    """Sequential single-event appends at an exact expected version (what a command does)."""
    stream = f"bare-{next(_keys)}"
    times = []
    for revision in range(-1, n - 1):
        event = KurrentNewEvent(type=sample.type, data=sample.data, metadata=sample.metadata)
        start = time.perf_counter()
        client.append_to_stream(stream, events=event, current_version=_expected(revision))
        times.append(time.perf_counter() - start)
    return times


def bare_records(client: KurrentDBClient, n: int, sample: NewEvent) -> list[float]:
    """The same through `append_records`: the stream's exact revision as the check."""
    stream = f"bare-rec-{next(_keys)}"
    times = []
    for revision in range(-1, n - 1):
        record = NewRecord(stream, sample.type, sample.data, sample.metadata)
        start = time.perf_counter()
        client.append_records(record, StreamStateCheck(stream, _expected(revision)))
        times.append(time.perf_counter() - start)
    return times


def _expected(revision: int) -> int | StreamState:
    return revision if revision >= 0 else StreamState.NO_STREAM


def commands(service: CommandService, case_id: str, n: int) -> list[float]:
    return [timed(lambda: accepted(service.handle(brief(case_id)))) for _ in range(n)]


def rate(threads: int, seconds: float, work: Callable[[int], Callable[[], object]]) -> float:
    """Operations per second by `threads` threads, each repeating `work(i)` for `seconds`."""
    done = [0] * threads
    stop = threading.Event()

    def loop(i: int) -> None:
        step = work(i)
        while not stop.is_set():
            step()
            done[i] += 1

    with ThreadPoolExecutor(threads) as pool:
        for i in range(threads):
            pool.submit(loop, i)
        time.sleep(0.5)
        before = sum(done)
        time.sleep(seconds)
        total = sum(done) - before
        stop.set()
    return total / seconds


def command_vs_append(url: str, samples: int) -> list[Row]:
    store = KurrentEventStore.connect(url)
    client = KurrentDBClient(uri=url)
    service = command_service(store)
    open_case(service, "hot")
    example = accepted(service.handle(brief("hot")))
    recorded = store.read_stream(CASE.stream("t1", "hot"), example.stream_revision or 0)[0]
    event = NewEvent(recorded.type, recorded.data, recorded.metadata)
    bare_appends(client, 100, event)  # warm up
    bare_records(client, 100, event)
    commands(service, "hot", 100)

    bare = bare_appends(client, samples, event)
    unary = bare_records(client, samples, event)
    cmd = commands(service, "hot", samples)
    b50, u50, c50 = statistics.median(bare), statistics.median(unary), statistics.median(cmd)
    size = len(event.data) + len(event.metadata)
    rows: list[Row] = [
        (
            "command latency p50 / p99 (`create_analyst_brief`, warm service)",
            f"{ms(c50)} / {ms(pct(cmd, 0.99))} ms",
            f"bare client append (v1 Append) p50 / p99 {ms(b50)} / {ms(pct(bare, 0.99))} ms "
            f"({size} B event)",
            f"{c50 / b50:.2f}x (target <= 2x): {'met' if c50 <= 2 * b50 else 'NOT met'}",
        ),
        (
            "the same, against the command's own call",
            f"{ms(c50)} / {ms(pct(cmd, 0.99))} ms",
            f"bare `append_records` (v2 AppendRecords, checked) p50 / p99 {ms(u50)} / "
            f"{ms(pct(unary, 0.99))} ms",
            f"{c50 / u50:.2f}x (target <= 2x): {'met' if c50 <= 2 * u50 else 'NOT met'}",
        ),
        (
            "sequential command throughput",
            f"{1 / statistics.mean(cmd):,.0f} commands/s",
            f"bare appends {1 / statistics.mean(bare):,.0f} /s; bare `append_records` "
            f"{1 / statistics.mean(unary):,.0f} /s",
            f"{statistics.mean(cmd) / statistics.mean(bare):.2f}x / "
            f"{statistics.mean(cmd) / statistics.mean(unary):.2f}x the cost",
        ),
    ]
    threads = 8
    for i in range(threads):
        open_case(service, f"par-{i}")
    cmd_rate = rate(threads, 3.0, lambda i: lambda: accepted(service.handle(brief(f"par-{i}"))))

    def bare_step(i: int) -> Callable[[], object]:
        stream, revision = f"bare-par-{next(_keys)}", itertools.count(-1)

        def step() -> object:
            r = next(revision)
            e = KurrentNewEvent(type=event.type, data=event.data, metadata=event.metadata)
            return client.append_to_stream(stream, events=e, current_version=_expected(r))

        return step

    def records_step(i: int) -> Callable[[], object]:
        stream, revision = f"bare-rec-par-{next(_keys)}", itertools.count(-1)

        def step() -> object:
            check = StreamStateCheck(stream, _expected(next(revision)))
            record = NewRecord(stream, event.type, event.data, event.metadata)
            return client.append_records(record, check)

        return step

    bare_rate = rate(threads, 3.0, bare_step)
    records_rate = rate(threads, 3.0, records_step)
    rows.append(
        (
            f"command throughput, {threads} threads on {threads} cases (one service)",
            f"{cmd_rate:,.0f} commands/s",
            f"bare appends, {threads} threads: {bare_rate:,.0f} /s; bare `append_records`: "
            f"{records_rate:,.0f} /s",
            f"{bare_rate / cmd_rate:.2f}x / {records_rate / cmd_rate:.2f}x the cost",
        )
    )
    client.close()
    store.close()
    return rows


# ---- agent commands: the rate and run budget layers ------------------------------------------

AGENT_RUN_LENGTH = 100
"""Agent commands per agent and run in the agent benchmark: below the default rate (120 a
minute) and run budget (1,000), so the benchmark needs no policy of its own."""


def agent_brief(case_id: str, n: int) -> CommandEnvelope:
    """`brief` as agent `bench-bot-<k>` on run `bench-run-<k>` (a new one every 100)."""
    k = n // AGENT_RUN_LENGTH
    agent = {
        "requested_by_actor_type": ActorType.AGENT,
        "requested_by_actor_id": f"bench-bot-{k}",
        "requested_by_roles": frozenset(),
        "run_id": f"bench-run-{k}",
    }
    return brief(case_id).model_copy(update=agent)


def agent_vs_user(url: str, samples: int) -> list[Row]:
    """The same command by a user and by an agent, interleaved one for one on two cases of one
    warm service: the agent's pays the rate limit and the run budget, the user's neither."""
    store = KurrentEventStore.connect(url)
    service = command_service(store)
    open_case(service, "by-user")
    open_case(service, "by-agent")
    agents = itertools.count()
    user: list[float] = []
    agent: list[float] = []
    for n in range(samples + 100):
        u = timed(lambda: accepted(service.handle(brief("by-user"))))
        a = timed(lambda: accepted(service.handle(agent_brief("by-agent", next(agents)))))
        if n >= 100:  # warm-up
            user.append(u)
            agent.append(a)
    store.close()
    u50, a50 = statistics.median(user), statistics.median(agent)
    return [
        (
            "agent command latency p50 / p99 (`create_analyst_brief`, warm; a new run every "
            f"{AGENT_RUN_LENGTH})",
            f"{ms(a50)} / {ms(pct(agent, 0.99))} ms",
            f"the same by a user (no rate, no budget), interleaved: {ms(u50)} / "
            f"{ms(pct(user, 0.99))} ms",
            f"{(a50 - u50) * 1e3:+.2f} ms ({a50 / u50:.2f}x)",
        )
    ]


# ---- rehydration and stream growth ------------------------------------------------------------


def rehydration(url: str, bare_port: int, samples: int) -> list[Row]:
    """Rehydrating a 1,000-event case cold (no cache): read, decode and fold all events; the
    same from a snapshot `SNAPSHOTS.gap(1000)` events back (the most a 1,000-event stream lags
    its snapshot under the service's policy) and half that (the mean); the decode and fold
    alone; and the transport floor, a bare gRPC server stream."""
    store = KurrentEventStore.connect(url)
    seed_case(store, "k1", 1000)
    registry = event_registry()
    stream = CASE.stream("t1", "k1")
    records = store.read_stream(stream)
    worst = SNAPSHOTS.gap(1000)
    mean = worst // 2
    snapshots = SNAPSHOTS

    def snapshot_back(lag: int) -> None:
        at, _ = load(store, registry, CASE, stream, up_to_revision=len(records) - 1 - lag)
        store.append(snapshot_stream(stream), [encode(at)], ANY)
        if from_snapshot().snapshot_revision != at.revision:
            raise RuntimeError("the snapshot was not used")

    def from_snapshot() -> Loaded[CaseState]:
        return AggregateCache(store, registry, snapshots=snapshots).load(CASE, stream)

    snapshot_back(worst)
    start = Loaded(CASE, stream, CASE.initial_state(), NO_STREAM, {})
    for _ in range(3):
        load(store, registry, CASE, stream)
        from_snapshot()
    total = [timed(lambda: load(store, registry, CASE, stream)) for _ in range(samples)]
    snapped = [timed(from_snapshot) for _ in range(samples * 3)]
    snapshot_back(mean)
    halfway = [timed(from_snapshot) for _ in range(samples * 3)]
    folds = [
        timed(lambda: fold(start, [read_recorded(r, registry) for r in records]))
        for _ in range(samples)
    ]
    size = sum(len(r.data) + len(r.metadata) for r in records) // len(records)
    bare = [len(records) / bare_stream_rate(bare_port, len(records), size) for _ in range(samples)]
    p50, f50, b50 = statistics.median(total), statistics.median(folds), statistics.median(bare)
    s50, h50 = statistics.median(snapped), statistics.median(halfway)
    policy = POLICY.stream("t1", "t1")
    tails = [timed(lambda: store.read_stream(stream, len(records))) for _ in range(samples * 5)]
    both = [
        timed(lambda: store.read_streams([StreamRead(stream, len(records)), StreamRead(policy)]))
        for _ in range(samples * 5)
    ]
    store.close()
    return [
        (
            "rehydrate a 1,000-event case cold from its events (read + decode + fold), p50 / p99",
            f"{ms(p50)} / {ms(pct(total, 0.99))} ms",
            f"bare gRPC server stream of 1,000 {size} B messages p50 {ms(b50)} ms",
            f"target <= 20 ms: {'met' if p50 <= 0.020 else 'NOT met'}; "
            f"{p50 / b50:.2f}x the transport floor (audit replays take this path)",
        ),
        (
            f"rehydrate a 1,000-event case cold with a snapshot at event {1000 - worst} "
            f"(snapshot + {worst} events: the most the policy leaves), p50 / p99",
            f"{ms(s50)} / {ms(pct(snapped, 0.99))} ms",
            f"from its events p50 {ms(p50)} ms",
            f"target <= 20 ms: {'met' if s50 <= 0.020 else 'NOT met'}; {p50 / s50:.1f}x faster",
        ),
        (
            f"the same with the snapshot at event {1000 - mean} (snapshot + {mean} events: "
            "the mean), p50 / p99",
            f"{ms(h50)} / {ms(pct(halfway, 0.99))} ms",
            f"from its events p50 {ms(p50)} ms",
            f"target <= 20 ms: {'met' if h50 <= 0.020 else 'NOT met'}; {p50 / h50:.1f}x faster",
        ),
        (
            "rehydrate a 1,000-event case: decode + fold alone (in process), p50",
            f"{ms(f50)} ms",
            "-",
            f"target <= 20 ms: {'met' if f50 <= 0.020 else 'NOT met'}",
        ),
        (
            "tail reads of a command: case + policy in one `read_streams` call, p50",
            f"{ms(statistics.median(both))} ms",
            f"one tail read p50 {ms(statistics.median(tails))} ms",
            f"{statistics.median(both) / statistics.median(tails):.2f}x one read",
        ),
    ]


def cold_command(store: EventStore, case_id: str, snapshot_every: int) -> float:
    """One command by a new service: nothing cached; the case is rehydrated from its start, or
    from its latest snapshot."""
    service = command_service(store, snapshot_every=snapshot_every)
    return timed(lambda: accepted(service.handle(brief(case_id))))


def growth(url: str, sizes: list[int], samples: int) -> list[Row]:
    """Command latency on a case of 10 .. 10,000 events: cold = a new service (empty cache)
    per command, without snapshots and with them; warm = one service whose cache holds the
    case."""
    store = KurrentEventStore.connect(url)
    rows: list[Row] = []
    cold_p50: dict[int, float] = {}
    snap_p50: dict[int, float] = {}
    warm_p50: dict[int, float] = {}
    warm_tails: dict[int, tuple[list[float], list[float]]] = {}
    writes: dict[int, tuple[int, float]] = {}
    for size in sizes:
        case_id = f"g{size}"
        seed_case(store, case_id, size)
        cold = [cold_command(store, case_id, 0) for _ in range(max(5, samples // 20))]
        cold_command(store, case_id, SNAPSHOT_EVERY)  # writes the case's first snapshot
        snap = [cold_command(store, case_id, SNAPSHOT_EVERY) for _ in range(max(5, samples // 20))]
        writes[size] = snapshot_writes(store, case_id, max(5, samples // 20))
        service = command_service(store)
        accepted(service.handle(brief(case_id)))
        warm = commands(service, case_id, samples)
        warm_tails[size] = (warm, background_commands(store, case_id, samples))
        cold_p50[size], warm_p50[size] = statistics.median(cold), statistics.median(warm)
        snap_p50[size] = statistics.median(snap)
    smallest, largest = sizes[0], sizes[-1]
    flat = warm_p50[largest] / warm_p50[smallest]
    rows.append(
        (
            "command latency p50 as the case grows, warm (cached aggregate)",
            "; ".join(f"{s:,}: {ms(warm_p50[s])} ms" for s in sizes),
            f"{smallest:,}-event case {ms(warm_p50[smallest])} ms",
            f"{largest:,} / {smallest:,}: {flat:.2f}x (flat: <= 1.25x): "
            f"{'met' if flat <= 1.25 else 'NOT met'}",
        )
    )
    inline, off_path = warm_tails[largest]
    tail_ratio = pct(off_path, 0.99) / pct(inline, 0.99)
    rows.append(
        (
            "command latency p50 / p99 as the case grows, warm, snapshots written on a "
            "background thread (`ThreadBackground`, as `bootstrap` wires it)",
            "; ".join(
                f"{s:,}: {ms(statistics.median(b))} / {ms(pct(b, 0.99))} ms"
                for s, (_, b) in warm_tails.items()
            ),
            "snapshots written inline, after the command's append: "
            + "; ".join(
                f"{s:,}: {ms(statistics.median(i))} / {ms(pct(i, 0.99))} ms"
                for s, (i, _) in warm_tails.items()
            ),
            f"p99 at {largest:,}: {tail_ratio:.2f}x inline's",
        )
    )
    snap_flat = snap_p50[largest] / snap_p50[smallest]
    rows.append(
        (
            "command latency p50 as the case grows, cold with snapshots (new service: latest "
            "snapshot + the events after it)",
            "; ".join(f"{s:,}: {ms(snap_p50[s])} ms" for s in sizes),
            f"{smallest:,}-event case {ms(snap_p50[smallest])} ms",
            f"{largest:,} / {smallest:,}: {snap_flat:.2f}x",
        )
    )
    rows.append(
        (
            "command latency p50 as the case grows, cold without snapshots (new service: "
            "full rehydration)",
            "; ".join(f"{s:,}: {ms(cold_p50[s])} ms" for s in sizes),
            f"{smallest:,}-event case {ms(cold_p50[smallest])} ms",
            f"{largest:,} / {smallest:,}: {cold_p50[largest] / cold_p50[smallest]:.1f}x",
        )
    )
    rows.append(
        (
            "snapshot write (encode + append after the command's own), p50, every "
            + "; ".join(f"{s:,}: {SNAPSHOTS.gap(s)}" for s in writes)
            + " events",
            "; ".join(f"{s:,}: {ms(t)} ms ({n / 1e3:,.0f} kB)" for s, (n, t) in writes.items()),
            "command latency p50, warm: "
            + "; ".join(f"{s:,}: {ms(warm_p50[s])} ms" for s in sizes),
            "per command (/ the gap): "
            + "; ".join(f"{s:,}: {ms(t / SNAPSHOTS.gap(s))} ms" for s, (_, t) in writes.items()),
        )
    )
    store.close()
    return rows


def background_commands(store: EventStore, case_id: str, samples: int) -> list[float]:
    """Warm commands on a service that writes its snapshots on a `ThreadBackground`."""
    background = ThreadBackground("bench-snapshots")
    service = command_service(store, background=background)
    accepted(service.handle(brief(case_id)))
    try:
        return commands(service, case_id, samples)
    finally:
        background.close()


def snapshot_writes(store: EventStore, case_id: str, samples: int) -> tuple[int, float]:
    """(size in bytes, p50 seconds) of what the service does when a snapshot is due: encode the
    aggregate as loaded and append it (each sample a new event id, so every append writes)."""
    stream = CASE.stream("t1", case_id)
    loaded, _ = load(store, event_registry(), CASE, stream)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        snapshot = replace(encode(loaded), id=uuid.uuid4())
        store.append(snapshot_stream(stream), [snapshot], ANY)
        times.append(time.perf_counter() - start)
    return len(snapshot.data), statistics.median(times)


@contextmanager
def embedded_store(tmp: Path) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "caseledger.adapters.cli.app", "eventstore", "serve"]
    args += ["--port", str(port), "--data-dir", str(tmp / "store")]
    with process(args, port_open(port)):
        yield f"kurrentdb://127.0.0.1:{port}?tls=false"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=500, help="sequential samples")
    parser.add_argument("--sizes", default="10,100,1000,10000", help="case lengths (events)")
    parser.add_argument("--agents-only", action="store_true", help="only agent vs user commands")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    bare_port = free_port()
    bare_server = [sys.executable, "-m", "bench.bare_grpc_server", str(bare_port)]
    with (
        tempfile.TemporaryDirectory() as tmp,
        embedded_store(Path(tmp)) as url,
        process(bare_server, port_open(bare_port)),
    ):
        rows = agent_vs_user(url, args.samples)
        if not args.agents_only:
            rows += command_vs_append(url, args.samples)
            rows += rehydration(url, bare_port, max(20, args.samples // 10))
            rows += growth(url, sizes, args.samples // 5)
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}\n")
    print("| benchmark | service on the embedded store | baseline (same run) | vs target |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
