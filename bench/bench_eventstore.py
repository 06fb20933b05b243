"""Embedded event store benchmarks, each next to its baseline measured in the same run.

    .venv/bin/python -m bench.bench_eventstore [--events 1000000] [--samples 2000] [--seconds 5]

The store runs as its own process (`caseledger eventstore serve`), as does a bare gRPC server,
so the client's and the servers' interpreters do not share a GIL. Figures go to stdout as a
markdown table (paste into BENCHMARKS.md with the command line).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
import orjson
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.events import NewRecord

PAYLOAD = orjson.dumps({"case_id": "c-0001", "risk_level": "high", "note": "x" * 200})


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


def bare_round_trips(port: int, n: int) -> list[float]:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    echo = channel.unary_unary("/bare.Bare/Echo")
    echo(PAYLOAD)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        echo(PAYLOAD)
        times.append(time.perf_counter() - start)
    channel.close()
    return times


def bare_client_stream_round_trips(port: int, n: int) -> list[float]:
    """Append's shape: a client stream of two messages (options, event), one answer."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    collect = channel.stream_unary("/bare.Bare/Collect")
    collect(iter([b"options", PAYLOAD]))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        collect(iter([b"options", PAYLOAD]))
        times.append(time.perf_counter() - start)
    channel.close()
    return times


def bare_stream_rate(port: int, n: int, size: int) -> float:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stream = channel.unary_stream("/bare.Bare/Stream")
    start = time.perf_counter()
    count = sum(1 for _ in stream(f"{n}:{size}".encode()))
    elapsed = time.perf_counter() - start
    channel.close()
    return count / elapsed


def sqlite_connection(path: Path) -> sqlite3.Connection:
    """The store's own schema (its `events` table and indexes), WAL, fsync per commit: so the
    baseline differs from the store only by what the store adds on top of SQLite."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    schema = resources.files("caseledger.adapters.eventstore.embedded") / "schema.sql"
    conn.executescript(schema.read_text())
    return conn


def _row(i: int) -> tuple[Any, ...]:
    return (i, "case-1", i, str(uuid.uuid4()), "t", "application/json", PAYLOAD, b"", 0)


def sqlite_commits(path: Path, n: int) -> list[float]:
    conn = sqlite_connection(path)
    times = []
    for i in range(n):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", _row(i))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def sqlite_executemany_rate(path: Path, batches: int, size: int) -> float:
    """The same rows as the store's batches, built before the clock starts (as those are)."""
    conn = sqlite_connection(path)
    base = 10_000_000
    all_rows = [[_row(base + b * size + i) for i in range(size)] for b in range(batches)]
    start = time.perf_counter()
    for rows in all_rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return batches * size / elapsed


# ---- the store through the official client ---------------------------------------------------


def sequential_appends(client: KurrentDBClient, n: int) -> list[float]:
    stream = f"bench-{uuid.uuid4().hex}"
    times = []
    for _ in range(n):
        event = NewEvent(type="bench.appended", data=PAYLOAD)
        start = time.perf_counter()
        client.append_to_stream(stream, current_version=StreamState.ANY, events=event)
        times.append(time.perf_counter() - start)
    return times


def sequential_append_records(client: KurrentDBClient, n: int) -> list[float]:
    """The same single events through KurrentDB's v2 AppendRecords (one unary call each)."""
    stream = f"bench-{uuid.uuid4().hex}"
    times = []
    for _ in range(n):
        record = NewRecord(stream_name=stream, type="bench.appended", data=PAYLOAD)
        start = time.perf_counter()
        client.append_records(record)
        times.append(time.perf_counter() - start)
    return times


def append_records_message() -> bytes:
    """What the client sends for one single-event `append_records`: the bare baseline's
    request, so both carry the same bytes."""
    from kurrentdbclient.protos.v2.streams import streams_pb2

    schema = streams_pb2.SchemaInfo(format=streams_pb2.SCHEMA_FORMAT_JSON, name="bench.appended")
    record = streams_pb2.AppendRecord(
        record_id=str(uuid.uuid4()), schema=schema, data=PAYLOAD, stream=f"bench-{uuid.uuid4().hex}"
    )
    return streams_pb2.AppendRecordsRequest(records=[record]).SerializeToString()


def _count_calls(
    threads: int, seconds: float, counts: Any, make_call: Callable[[], Callable[[], None]]
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

    def make_call() -> Callable[[], None]:
        client = KurrentDBClient(uri=url)
        stream = f"bench-{uuid.uuid4().hex}"

        def call() -> None:
            event = NewEvent(type="bench.appended", data=PAYLOAD)
            client.append_to_stream(stream, current_version=StreamState.ANY, events=event)

        return call

    _count_calls(threads, seconds, counts, make_call)


def _records_client_process(url: str, threads: int, seconds: float, counts: Any) -> None:
    """One client process: `threads` clients making single-event `append_records` calls."""

    def make_call() -> Callable[[], None]:
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
    collect = channel.stream_unary("/bare.Bare/Collect")

    def make_call() -> Callable[[], None]:
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
    ack = channel.unary_unary("/bare.Bare/Ack")

    def make_call() -> Callable[[], None]:
        return lambda: ack(message)

    _count_calls(threads, seconds, counts, make_call)
    channel.close()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events for read/memory")
    parser.add_argument("--samples", type=int, default=2000, help="sequential samples")
    parser.add_argument("--seconds", type=float, default=5.0, help="each concurrent run")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        store_port, bare_port = free_port(), free_port()
        store_cmd = [sys.executable, "-m", "caseledger.adapters.cli.app", "eventstore", "serve"]
        store_args = ["--port", str(store_port), "--data-dir", str(tmp_path / "store")]
        bare_cmd = [sys.executable, "-m", "bench.bare_grpc_server", str(bare_port)]
        with (
            process(store_cmd + store_args, port_open(store_port)) as store,
            process(bare_cmd, port_open(bare_port)),
        ):
            url = f"kurrentdb://127.0.0.1:{store_port}?tls=false"
            client = KurrentDBClient(uri=url)
            sequential_appends(client, 100)  # warm up
            sequential_append_records(client, 100)

            rtt = bare_round_trips(bare_port, args.samples)
            stream_rtt = bare_client_stream_round_trips(bare_port, args.samples)
            commits = sqlite_commits(tmp_path / "baseline.sqlite3", args.samples)
            appends = sequential_appends(client, args.samples)
            p50 = statistics.median(appends)
            for label, baseline in (("unary", rtt), ("client-stream", stream_rtt)):
                budget = statistics.median(baseline) + statistics.median(commits) + 300e-6
                rows.append(
                    (
                        f"sequential single-event append p50 / p99 (vs {label} rtt)",
                        f"{p50 * 1e3:.2f} / {pct(appends, 0.99) * 1e3:.2f} ms",
                        f"bare gRPC {label} rtt p50 {statistics.median(baseline) * 1e3:.2f} ms"
                        f" + fsync'd SQLite commit p50 {statistics.median(commits) * 1e3:.2f} ms",
                        f"p50 <= {budget * 1e3:.2f} ms: {'met' if p50 <= budget else 'NOT met'}",
                    )
                )

            records = sequential_append_records(client, args.samples)
            records_p50 = statistics.median(records)
            budget = statistics.median(rtt) + statistics.median(commits) + 300e-6
            verdict = "met" if records_p50 <= budget else "NOT met"
            rows.append(
                (
                    "sequential single-event append_records (v2 AppendRecords) p50 / p99",
                    f"{records_p50 * 1e3:.2f} / {pct(records, 0.99) * 1e3:.2f} ms",
                    f"bare gRPC unary rtt p50 {statistics.median(rtt) * 1e3:.2f} ms"
                    f" + fsync'd SQLite commit p50 {statistics.median(commits) * 1e3:.2f} ms",
                    f"p50 <= {budget * 1e3:.2f} ms: {verdict}",
                )
            )

            seq_rate = 1 / statistics.mean(appends)
            conc_rate = concurrent_append_rate(url, 16, args.seconds)
            bare_conc = concurrent_rate(_bare_client_process, bare_port, 16, args.seconds)
            rows.append(
                (
                    "single-event appends, 16 concurrent clients (4 processes x 4 threads)",
                    f"{conc_rate:,.0f} events/s",
                    f"sequential {seq_rate:,.0f} events/s; the same 16 clients making bare "
                    f"Append-shaped calls (no store): {bare_conc:,.0f} calls/s",
                    f"{conc_rate / seq_rate:.1f}x (target >= 2x); "
                    f"{conc_rate / bare_conc:.2f}x the transport's own ceiling",
                )
            )
            records_seq = 1 / statistics.mean(records)
            records_conc = concurrent_rate(_records_client_process, url, 16, args.seconds)
            message = append_records_message()
            bare_unary = (bare_port, message)
            bare_unary_conc = concurrent_rate(
                _bare_unary_client_process, bare_unary, 16, args.seconds
            )
            rows.append(
                (
                    "single-event append_records, 16 concurrent clients (4 processes x 4 threads)",
                    f"{records_conc:,.0f} events/s",
                    f"sequential append_records {records_seq:,.0f} events/s; the same 16 clients "
                    f"making bare unary calls of the same {len(message)} bytes (no store): "
                    f"{bare_unary_conc:,.0f} calls/s",
                    f"{records_conc / records_seq:.1f}x (target >= 2x); "
                    f"{records_conc / bare_unary_conc:.2f}x the transport's own ceiling",
                )
            )

            batch = batch_append_rate(client, 200, 100)
            raw = sqlite_executemany_rate(tmp_path / "baseline.sqlite3", 200, 100)
            rows.append(
                (
                    "100-event batch appends",
                    f"{batch:,.0f} events/s",
                    f"raw SQLite executemany of the same rows into the store's schema, a commit "
                    f"per 100: {raw:,.0f} rows/s",
                    f"{batch / raw:.2f}x (target >= 0.25x)",
                )
            )

            memory: list[str] = []
            marks = {args.events // 4 * k for k in (1, 2, 3, 4)}

            def progress(written: int) -> None:
                if written in marks or (written >= args.events and not memory[3:]):
                    memory.append(f"{written:,}: {rss_mib(store.pid):.0f} MiB")

            fill(client, args.events, progress)
            disk = dir_mib(tmp_path / "store")
            n = args.events
            reads = read_all_rate(client, n)
            raw_reads = raw_read_all_rate(store_port, n)
            subs = subscription_rate(client, n)
            raw_subs = raw_subscription_rate(store_port, n)
            bare = bare_stream_rate(bare_port, n, len(PAYLOAD) + 150)
            rows.append(
                (
                    f"$all read, {n:,} events",
                    f"{reads:,.0f} events/s",
                    f"bare gRPC server stream {bare:,.0f} msgs/s",
                    f"{reads / bare:.2f}x (target >= 0.7x)",
                )
            )
            rows.append(
                (
                    f"$all read, {n:,} events, bare stub (no client library)",
                    f"{raw_reads:,.0f} events/s",
                    f"bare gRPC server stream {bare:,.0f} msgs/s",
                    f"{raw_reads / bare:.2f}x (target >= 0.7x)",
                )
            )
            rows.append(
                (
                    f"catch-up subscription, {n:,} events",
                    f"{subs:,.0f} events/s",
                    f"bare gRPC server stream {bare:,.0f} msgs/s",
                    f"{subs / bare:.2f}x (target >= 0.7x)",
                )
            )
            rows.append(
                (
                    f"catch-up subscription, {n:,} events, bare stub (no client library)",
                    f"{raw_subs:,.0f} events/s",
                    f"bare gRPC server stream {bare:,.0f} msgs/s",
                    f"{raw_subs / bare:.2f}x (target >= 0.7x)",
                )
            )
            total = n + args.samples * 3 + 200 + 20000 + 32 * 1000
            rows.append(
                (
                    "store process memory (RSS) as it grows",
                    "; ".join(memory),
                    f"disk {disk:,.0f} MiB for ~{total:,} events "
                    f"({disk / total * 1e6:,.0f} MiB per million)",
                    "flat = met" if memory else "n/a",
                )
            )
            client.close()

    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}\n")
    print("| benchmark | embedded store | baseline (same run) | vs target |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
