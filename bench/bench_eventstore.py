"""Embedded event store benchmarks, each next to its baseline measured in the same run.

    .venv/bin/python -m bench.bench_eventstore [--events 1000000] [--samples 2000] [--seconds 5]
        [--only latency|concurrent|records-concurrent|batch|reads ...]

The store runs as its own process (`caseledger eventstore serve`), as does a bare gRPC server,
so the client's and the servers' interpreters do not share a GIL. Figures go to stdout as a
markdown table (paste into BENCHMARKS.md with the command line).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import grpc
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.events import NewRecord

from bench.baselines import INSERT, PAYLOAD, row, sqlite_connection

Unary: TypeAlias = "grpc.UnaryUnaryMultiCallable[bytes, bytes]"
Collecting: TypeAlias = "grpc.StreamUnaryMultiCallable[bytes, bytes]"
Streaming: TypeAlias = "grpc.UnaryStreamMultiCallable[bytes, bytes]"
"""The bare calls' stubs: bytes in, bytes out (no serializers)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], ready: Callable[[], bool]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not ready():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{args} did not start")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


def port_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    return check


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dir_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# ---- baselines --------------------------------------------------------------------------------


Call = Callable[[], object]


def interleaved(calls: dict[str, Call], n: int, block: int = 100) -> dict[str, list[float]]:
    """`n` timed calls of each, taken in alternating blocks of `block`. On a VM whose speed
    drifts (a bare round trip's median can double from one hour to the next) a drift weighs
    on the store and its baselines alike, not on whichever of them ran in a slow minute."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # connect, warm up
    for first in range(0, n, block):
        for name, call in calls.items():
            bucket = times[name]
            for _ in range(min(block, n - first)):
                start = time.perf_counter()
                call()
                bucket.append(time.perf_counter() - start)
    return times


def bare_calls(port: int) -> dict[str, Call]:
    """Calls to the bare server: `rtt` (unary echo), `stream rtt` (Append's shape: a client
    stream of two messages, one answer), and each again committing one row (fsync'd) before it
    answers, `composed` and `stream composed`: a round trip and a durable commit composed as a
    store composes them, with no store code."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    echo: Unary = channel.unary_unary("/bare.Bare/Echo")
    collect: Collecting = channel.stream_unary("/bare.Bare/Collect")
    commit: Unary = channel.unary_unary("/bare.Bare/Commit")
    collect_commit: Collecting = channel.stream_unary("/bare.Bare/CollectCommit")
    message = append_records_message()
    return {
        "rtt": lambda: echo(PAYLOAD),
        "stream rtt": lambda: collect(iter([b"options", PAYLOAD])),
        "composed": lambda: commit(message),
        "stream composed": lambda: collect_commit(iter([b"options", PAYLOAD])),
    }


def sqlite_commit(path: Path) -> Call:
    """One fsync'd commit of one row per call, into the store's schema."""
    conn = sqlite_connection(path)
    rows = (row(i) for i in itertools.count())

    def commit() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT, next(rows))
        conn.execute("COMMIT")

    return commit


def bare_stream_rate(port: int, n: int, size: int) -> float:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stream: Streaming = channel.unary_stream("/bare.Bare/Stream")
    start = time.perf_counter()
    count = sum(1 for _ in stream(f"{n}:{size}".encode()))
    elapsed = time.perf_counter() - start
    channel.close()
    return count / elapsed


def sqlite_commits_after_idle(path: Path, n: int, idle: float) -> list[float]:
    """`n` commits as `sqlite_commit` makes them, each after `idle` seconds of sleep (off the
    clock): what a commit costs when it follows a wait, as a sequential client's appends do."""
    commit = sqlite_commit(path)
    times = []
    for _ in range(n):
        time.sleep(idle)
        start = time.perf_counter()
        commit()
        times.append(time.perf_counter() - start)
    return times


def sqlite_executemany_rate(path: Path, batches: int, size: int) -> float:
    """The same rows as the store's batches, built before the clock starts (as those are)."""
    conn = sqlite_connection(path)
    base = 10_000_000
    all_rows = [[row(base + b * size + i) for i in range(size)] for b in range(batches)]
    start = time.perf_counter()
    for rows in all_rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return batches * size / elapsed


# ---- the store through the official client ---------------------------------------------------


def store_calls(client: KurrentDBClient, port: int, n: int) -> dict[str, Call]:
    """`n` single-event appends each, to one stream each: `append` through KurrentDB's v1
    Append (a client stream), `append_records` through v2 AppendRecords (unary), both with
    kurrentdbclient, and `append_records stub`, AppendRecords' bytes from a bare stub (no client
    library). The events are made before any clock starts."""
    stream = f"bench-{uuid.uuid4().hex}"
    stub: Unary = grpc.insecure_channel(f"127.0.0.1:{port}").unary_unary(
        "/kurrentdb.protocol.v2.streams.StreamsService/AppendRecords"
    )
    messages = iter([append_records_message(f"{stream}-stub") for _ in range(n + 1)])
    events = iter([NewEvent(type="bench.appended", data=PAYLOAD) for _ in range(n + 1)])
    records = iter(
        [
            NewRecord(stream_name=f"{stream}-v2", type="bench.appended", data=PAYLOAD)
            for _ in range(n + 1)
        ]
    )
    return {
        "append": lambda: client.append_to_stream(
            stream, current_version=StreamState.ANY, events=next(events)
        ),
        "append_records": lambda: client.append_records(next(records)),
        "append_records stub": lambda: stub(next(messages)),
    }


def append_records_message(stream: str | None = None) -> bytes:
    """What the client sends for one single-event `append_records` (to `stream`, or a new one):
    the bare baselines' request, so the store and they carry the same bytes."""
    from kurrentdbclient.protos.v2.streams import streams_pb2

    schema = streams_pb2.SchemaInfo(format=streams_pb2.SCHEMA_FORMAT_JSON, name="bench.appended")
    record = streams_pb2.AppendRecord(
        record_id=str(uuid.uuid4()),
        schema=schema,
        data=PAYLOAD,
        stream=stream or f"bench-{uuid.uuid4().hex}",
    )
    return streams_pb2.AppendRecordsRequest(records=[record]).SerializeToString()


def _count_calls(
    threads: int, seconds: float, counts: Any, make_call: Callable[[], Callable[[], object]]
) -> None:
    """`threads` threads each making calls for `seconds` after a warm-up; puts the count."""
    done = [0] * threads
    stop = threading.Event()

    def worker(i: int) -> None:
        call = make_call()
        while not stop.is_set():
            call()
            done[i] += 1

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    time.sleep(1.0)  # warm up
    before = sum(done)
    time.sleep(seconds)
    counts.put(sum(done) - before)
    stop.set()
    for t in workers:
        t.join()


def _client_process(url: str, threads: int, seconds: float, counts: Any) -> None:
    """One client process: `threads` clients appending single events for `seconds`."""

    def make_call() -> Callable[[], object]:
        client = KurrentDBClient(uri=url)
        stream = f"bench-{uuid.uuid4().hex}"

        def call() -> None:
            event = NewEvent(type="bench.appended", data=PAYLOAD)
            client.append_to_stream(stream, current_version=StreamState.ANY, events=event)

        return call

    _count_calls(threads, seconds, counts, make_call)


def _records_client_process(url: str, threads: int, seconds: float, counts: Any) -> None:
    """One client process: `threads` clients making single-event `append_records` calls."""

    def make_call() -> Callable[[], object]:
        client = KurrentDBClient(uri=url)
        stream = f"bench-{uuid.uuid4().hex}"

        def call() -> None:
            client.append_records(
                NewRecord(stream_name=stream, type="bench.appended", data=PAYLOAD)
            )

        return call

    _count_calls(threads, seconds, counts, make_call)


def _bare_client_process(port: int, threads: int, seconds: float, counts: Any) -> None:
    """One process of `threads` clients making Append-shaped calls to the bare server."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    collect: Collecting = channel.stream_unary("/bare.Bare/Collect")

    def make_call() -> Callable[[], object]:
        return lambda: collect(iter([b"options", PAYLOAD]))

    _count_calls(threads, seconds, counts, make_call)
    channel.close()


def _bare_unary_client_process(
    target: tuple[int, bytes], threads: int, seconds: float, counts: Any
) -> None:
    """One process of `threads` clients making unary calls of `message`'s size (AppendRecords'
    shape: a request, a short answer) to the bare server at `port`."""
    port, message = target
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    ack: Unary = channel.unary_unary("/bare.Bare/Ack")

    def make_call() -> Callable[[], object]:
        return lambda: ack(message)

    _count_calls(threads, seconds, counts, make_call)
    channel.close()


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(all, idle) CPU ticks of the machine so far."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


@dataclass(frozen=True)
class Load:
    """What a concurrent run cost, over the steady middle of its window."""

    server_cores: float
    """CPU seconds the server used per second."""
    machine_busy: float
    """The fraction of all the machine's cores busy (clients, server, anything else)."""


def sample_load(pid: int, seconds: float) -> Callable[[], Load]:
    """Sample `pid`'s CPU and the machine's from 1.25 s (the clients' warm-up) to 0.25 s
    before the end of a `seconds` window; call the result once the run is over."""
    result: list[Load] = []

    def sample() -> None:
        time.sleep(1.25)
        cpu, (ticks, idle) = process_cpu_seconds(pid), machine_ticks()
        start = time.perf_counter()
        time.sleep(max(seconds - 0.5, 0.5))
        elapsed = time.perf_counter() - start
        ticks_now, idle_now = machine_ticks()
        busy = 1 - (idle_now - idle) / max(ticks_now - ticks, 1)
        result.append(Load((process_cpu_seconds(pid) - cpu) / elapsed, busy))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def load() -> Load:
        sampler.join()
        return result[0]

    return load


def concurrent_rate(
    target: Callable[..., None], address: Any, clients: int, seconds: float, processes: int = 4
) -> float:
    """`clients` clients spread over `processes` processes, so the clients' own interpreter
    is not what limits the rate."""
    counts: Any = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=target, args=(address, clients // processes, seconds, counts)
        )
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    total = sum(counts.get(timeout=seconds + 60) for _ in procs)
    for proc in procs:
        proc.join()
    return float(total) / seconds


def concurrent_rate_and_load(
    target: Callable[..., None], address: Any, server_pid: int, seconds: float
) -> tuple[float, Load]:
    """16 clients' rate, and what the server at `server_pid` and the machine spent on it."""
    load = sample_load(server_pid, seconds)
    rate = concurrent_rate(target, address, 16, seconds)
    return rate, load()


def concurrent_append_rate(url: str, clients: int, seconds: float) -> float:
    return concurrent_rate(_client_process, url, clients, seconds)


def batch_append_rate(client: KurrentDBClient, batches: int, size: int) -> float:
    """Appends of `size` events each; the events are built before the clock starts, as the
    baseline's rows are."""
    prepared = [
        (
            f"bench-{uuid.uuid4().hex[:8]}",
            [NewEvent(type="bench.appended", data=PAYLOAD) for _ in range(size)],
        )
        for _ in range(batches)
    ]
    start = time.perf_counter()
    for stream, events in prepared:
        client.append_to_stream(stream, current_version=StreamState.ANY, events=events)
    return batches * size / (time.perf_counter() - start)


def fill(client: KurrentDBClient, total: int, on_progress: Callable[[int], None]) -> None:
    written = 0
    size = 500
    while written < total:
        events = [NewEvent(type="case.noted", data=PAYLOAD) for _ in range(size)]
        client.append_to_stream(
            f"case-{written // size}", current_version=StreamState.ANY, events=events
        )
        written += size
        on_progress(written)


def read_all_rate(client: KurrentDBClient, n: int) -> float:
    start = time.perf_counter()
    count = sum(1 for _ in client.read_all(limit=n))
    return count / (time.perf_counter() - start)


def raw_read_all_rate(port: int, n: int) -> float:
    """`$all` through a bare stub: the server and transport without the client library's
    per-event conversion (which, in one Python process, is what bounds `read_all`)."""
    from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2, streams_pb2_grpc

    options = streams_pb2.ReadReq.Options
    request = streams_pb2.ReadReq(
        options=options(
            all=options.AllOptions(start=shared_pb2.Empty()),
            read_direction=options.Forwards,
            count=n,
            no_filter=shared_pb2.Empty(),
            uuid_option=options.UUIDOption(string=shared_pb2.Empty()),
        )
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
    start = time.perf_counter()
    count = sum(1 for _ in stub.Read(request))
    elapsed = time.perf_counter() - start
    channel.close()
    return count / elapsed


def raw_subscription_rate(port: int, n: int) -> float:
    """A catch-up subscription to `$all` through a bare stub, from the start until `n` events:
    the server and transport without the client library's per-event conversion."""
    from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2, streams_pb2_grpc

    options = streams_pb2.ReadReq.Options
    request = streams_pb2.ReadReq(
        options=options(
            all=options.AllOptions(start=shared_pb2.Empty()),
            read_direction=options.Forwards,
            subscription=options.SubscriptionOptions(),
            no_filter=shared_pb2.Empty(),
            uuid_option=options.UUIDOption(string=shared_pb2.Empty()),
        )
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
    start = time.perf_counter()
    call = stub.Read(request, timeout=600)
    count = 0
    for response in call:
        if response.WhichOneof("content") == "event":
            count += 1
            if count >= n:
                break
    elapsed = time.perf_counter() - start
    call.cancel()
    channel.close()
    return count / elapsed


def subscription_rate(client: KurrentDBClient, n: int) -> float:
    start = time.perf_counter()
    count = 0
    with client.subscribe_to_all(timeout=600) as subscription:
        for _ in subscription:
            count += 1
            if count >= n:
                break
    return count / (time.perf_counter() - start)


PARTS = ("latency", "concurrent", "records-concurrent", "batch", "reads")
"""What `--only` can pick: sequential append latencies next to rtt + commit; 16 v1 clients;
16 append_records clients; 100-event batches; fill + `$all` reads, subscriptions, memory."""


class Run:
    """One run's servers, client and rows; a part measures what it needs once (lazily)."""

    def __init__(
        self, args: argparse.Namespace, tmp: Path, ports: tuple[int, int], pids: tuple[int, int]
    ):
        store_port, bare_port = ports
        self.store_pid, self.bare_pid = pids
        self.args = args
        self.tmp = tmp
        self.store_port = store_port
        self.bare_port = bare_port
        self.url = f"kurrentdb://127.0.0.1:{store_port}?tls=false"
        self.client = KurrentDBClient(uri=self.url)
        self.rows: list[tuple[str, str, str, str]] = []
        self._sequential: dict[str, list[float]] = {}

    def sequential(self) -> dict[str, list[float]]:
        """The sequential latencies by name, measured once, interleaved: the store's
        (`store_calls`), the bare server's (`bare_calls`) and a raw SQLite `commit`."""
        if not self._sequential:
            calls = {
                **store_calls(self.client, self.store_port, self.args.samples),
                **bare_calls(self.bare_port),
                "commit": sqlite_commit(self.tmp / "baseline.sqlite3"),
            }
            self._sequential = interleaved(calls, self.args.samples)
        return self._sequential


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.2f}"


def latency_part(run: Run) -> None:
    """Each sequential append next to rtt + commit measured apart (the issue's target), then
    next to the two composed in one bare call: on a VM a commit that follows a round trip's
    idle costs more than one that follows another commit (docs/benchmarks-history.md), which a
    sum of back-to-back figures leaves out."""
    times = run.sequential()
    commit = statistics.median(times["commit"])
    for call, rtt in (
        ("append", "rtt"),
        ("append", "stream rtt"),
        ("append_records", "rtt"),
        ("append_records stub", "rtt"),
    ):
        p50 = statistics.median(times[call])
        budget = statistics.median(times[rtt]) + commit + 300e-6
        run.rows.append(
            (
                f"sequential single-event {LABELS[call]} p50 / p99 (vs {rtt})",
                f"{p50 * 1e3:.2f} / {pct(times[call], 0.99) * 1e3:.2f} ms",
                f"bare gRPC {rtt} p50 {_ms(times[rtt])} ms + fsync'd SQLite commit p50"
                f" {commit * 1e3:.2f} ms",
                f"p50 <= {budget * 1e3:.2f} ms: {'met' if p50 <= budget else 'NOT met'}",
            )
        )
    idle = sqlite_commits_after_idle(run.tmp / "idle.sqlite3", run.args.samples, 500e-6)
    run.rows.append(
        (
            "fsync'd SQLite commit p50 after 0.5 ms idle (the store's schema, one row)",
            f"{_ms(idle)} ms",
            f"the same commits back to back: p50 {commit * 1e3:.2f} ms",
            f"{statistics.median(idle) / commit:.1f}x: the sum above counts the commit at its"
            " back-to-back cost",
        )
    )
    for call, composed in (
        ("append", "stream composed"),
        ("append_records", "composed"),
        ("append_records stub", "composed"),
    ):
        p50 = statistics.median(times[call])
        budget = statistics.median(times[composed]) + 300e-6
        run.rows.append(
            (
                f"sequential single-event {LABELS[call]} p50 (vs {composed})",
                f"{p50 * 1e3:.2f} ms",
                f"bare gRPC {SHAPES[composed]} committing one row (fsync'd SQLite, the store's"
                f" schema) before it answers: p50 {_ms(times[composed])} ms",
                f"p50 <= {budget * 1e3:.2f} ms: {'met' if p50 <= budget else 'NOT met'}",
            )
        )


SHAPES = {
    "composed": "unary call of AppendRecords' bytes",
    "stream composed": "Append-shaped client-stream call",
}
LABELS = {
    "append": "append (v1 Append)",
    "append_records": "append_records (v2 AppendRecords)",
    "append_records stub": "AppendRecords from a bare stub (no client library)",
}


def concurrent_part(run: Run) -> None:
    seq_rate = 1 / statistics.mean(run.sequential()["append"])
    conc_rate = concurrent_append_rate(run.url, 16, run.args.seconds)
    bare_conc = concurrent_rate(_bare_client_process, run.bare_port, 16, run.args.seconds)
    run.rows.append(
        (
            "single-event appends, 16 concurrent clients (4 processes x 4 threads)",
            f"{conc_rate:,.0f} events/s",
            f"sequential {seq_rate:,.0f} events/s; the same 16 clients making bare "
            f"Append-shaped calls (no store): {bare_conc:,.0f} calls/s",
            f"{conc_rate / seq_rate:.2f}x (target >= 2x); "
            f"{conc_rate / bare_conc:.2f}x the transport's own ceiling",
        )
    )


def records_concurrent_part(run: Run) -> None:
    records_seq = 1 / statistics.mean(run.sequential()["append_records"])
    seconds = run.args.seconds
    records_conc, load = concurrent_rate_and_load(
        _records_client_process, run.url, run.store_pid, seconds
    )
    message = append_records_message()
    bare_unary = (run.bare_port, message)
    bare_unary_conc, bare_load = concurrent_rate_and_load(
        _bare_unary_client_process, bare_unary, run.bare_pid, seconds
    )
    run.rows.append(
        (
            "single-event append_records, 16 concurrent clients (4 processes x 4 threads)",
            f"{records_conc:,.0f} events/s; store CPU {load.server_cores / records_conc * 1e6:.0f}"
            f" µs an append; machine {load.machine_busy:.0%} busy",
            f"sequential append_records {records_seq:,.0f} events/s; the same 16 clients "
            f"making bare unary calls of the same {len(message)} bytes (no store): "
            f"{bare_unary_conc:,.0f} calls/s, bare server CPU "
            f"{bare_load.server_cores / bare_unary_conc * 1e6:.0f} µs a call, machine "
            f"{bare_load.machine_busy:.0%} busy",
            f"{records_conc / records_seq:.2f}x (target >= 2x); "
            f"{records_conc / bare_unary_conc:.2f}x the transport's own ceiling",
        )
    )


def batch_part(run: Run) -> None:
    batch = batch_append_rate(run.client, 200, 100)
    raw = sqlite_executemany_rate(run.tmp / "baseline.sqlite3", 200, 100)
    run.rows.append(
        (
            "100-event batch appends",
            f"{batch:,.0f} events/s",
            f"raw SQLite executemany of the same rows into the store's schema, a commit "
            f"per 100: {raw:,.0f} rows/s",
            f"{batch / raw:.2f}x (target >= 0.25x)",
        )
    )


def reads_part(run: Run) -> None:
    n = run.args.events
    memory: list[str] = []
    marks = {n // 4 * k for k in (1, 2, 3, 4)}

    def progress(written: int) -> None:
        if written in marks or (written >= n and not memory[3:]):
            memory.append(f"{written:,}: {rss_mib(run.store_pid):.0f} MiB")

    events_before = sum(1 for _ in run.client.read_all())
    fill(run.client, n, progress)
    disk = dir_mib(run.tmp / "store")
    size = len(PAYLOAD) + 150

    def bare() -> float:
        return bare_stream_rate(run.bare_port, max(n // 4, 1), size)

    measures: tuple[tuple[str, Callable[[], float]], ...] = (
        (f"$all read, {n:,} events", lambda: read_all_rate(run.client, n)),
        (
            f"$all read, {n:,} events, bare stub (no client library)",
            lambda: raw_read_all_rate(run.store_port, n),
        ),
        (f"catch-up subscription, {n:,} events", lambda: subscription_rate(run.client, n)),
        (
            f"catch-up subscription, {n:,} events, bare stub (no client library)",
            lambda: raw_subscription_rate(run.store_port, n),
        ),
    )
    for label, measure in measures:
        before, rate, after = bare(), measure(), bare()  # the baseline brackets each read
        baseline = (before + after) / 2
        run.rows.append(
            (
                label,
                f"{rate:,.0f} events/s",
                f"bare gRPC server stream {baseline:,.0f} msgs/s (just before / after:"
                f" {before:,.0f} / {after:,.0f})",
                f"{rate / baseline:.2f}x (target >= 0.7x)",
            )
        )
    total = n + events_before
    run.rows.append(
        (
            "store process memory (RSS) as it grows",
            "; ".join(memory),
            f"disk {disk:,.0f} MiB for {total:,} events"
            f" ({disk / total * 1e6:,.0f} MiB per million)",
            "flat = met" if memory else "n/a",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events for read/memory")
    parser.add_argument("--samples", type=int, default=2000, help="sequential samples")
    parser.add_argument("--seconds", type=float, default=5.0, help="each concurrent run")
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help=f"run only this part (repeatable; default: all, in order: {', '.join(PARTS)})",
    )
    args = parser.parse_args()
    parts = [part for part in PARTS if args.only is None or part in args.only]

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        store_port, bare_port = free_port(), free_port()
        store_cmd = [sys.executable, "-m", "caseledger.adapters.cli.app", "eventstore", "serve"]
        store_args = ["--port", str(store_port), "--data-dir", str(tmp_path / "store")]
        bare_cmd = [sys.executable, "-m", "bench.bare_grpc_server", str(bare_port)]
        bare_cmd.append(str(tmp_path / "composed.sqlite3"))
        with (
            process(store_cmd + store_args, port_open(store_port)) as store,
            process(bare_cmd, port_open(bare_port)) as bare,
        ):
            run = Run(args, tmp_path, (store_port, bare_port), (store.pid, bare.pid))
            interleaved(store_calls(run.client, store_port, 200), 100)  # warm up
            for part in parts:
                if part == "reads":
                    reads_part(run)
                else:
                    {
                        "latency": latency_part,
                        "concurrent": concurrent_part,
                        "records-concurrent": records_concurrent_part,
                        "batch": batch_part,
                    }[part](run)
            run.client.close()

    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}\n")
    print("| benchmark | embedded store | baseline (same run) | vs target |")
    print("| --- | --- | --- | --- |")
    for cells in run.rows:
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
