"""A bare gRPC server for benchmark baselines: echo (unary), ack (unary with a short answer, the
shape of KurrentDB's v2 AppendRecords), collect (a client stream, the shape of KurrentDB's
Append), a server stream of N messages; given a database file, also commit and collect-commit:
the shapes of AppendRecords and Append again, each call committing one row (fsync'd) to a raw
SQLite database with the store's schema before it answers.

Run as `python -m bench.bare_grpc_server PORT [SQLITE_FILE]`; it serves raw bytes, no protobuf
work, so what it measures is the transport alone, and with `commit` the transport plus one
durable commit per call composed as a store would compose them (no store code).
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from bench.baselines import INSERT, row, sqlite_connection


def _echo(request: bytes, context: Any) -> bytes:
    return request


def _ack(request: bytes, context: Any) -> bytes:
    return request[:16]


def _collect(requests: Iterator[bytes], context: Any) -> bytes:
    return b"".join(requests)[:16]


def _stream(request: bytes, context: Any) -> Iterator[bytes]:
    count, size = (int(part) for part in request.decode().split(":"))
    payload = b"x" * size
    for _ in range(count):
        yield payload


def _committer(path: Path) -> Callable[[], None]:
    """Commits one row per call (BEGIN IMMEDIATE, INSERT, COMMIT: fsync'd)."""
    conn: sqlite3.Connection = sqlite_connection(path)
    lock = threading.Lock()
    count = itertools.count()

    def commit() -> None:
        with lock:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT, row(next(count)))
            conn.execute("COMMIT")

    return commit


def _commit_handlers(path: Path) -> dict[str, Any]:
    """`Commit` (AppendRecords' shape) and `CollectCommit` (Append's): one durable commit per
    call before the answer."""
    commit = _committer(path)

    def unary(request: bytes, context: Any) -> bytes:
        commit()
        return request[:16]

    def collected(requests: Iterator[bytes], context: Any) -> bytes:
        request = b"".join(requests)
        commit()
        return request[:16]

    return {
        "Commit": grpc.unary_unary_rpc_method_handler(unary),
        "CollectCommit": grpc.stream_unary_rpc_method_handler(collected),
    }


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    handlers: dict[str, Any] = {
        "Echo": grpc.unary_unary_rpc_method_handler(_echo),
        "Ack": grpc.unary_unary_rpc_method_handler(_ack),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream),
        "Collect": grpc.stream_unary_rpc_method_handler(_collect),
    }
    if len(sys.argv) > 2:
        handlers.update(_commit_handlers(Path(sys.argv[2])))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bare.Bare", handlers),))
    server.add_insecure_port(f"127.0.0.1:{sys.argv[1]}")
    server.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
