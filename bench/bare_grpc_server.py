"""A bare gRPC server for benchmark baselines: echo (unary), ack (unary with a short answer, the
shape of KurrentDB's v2 AppendRecords), collect (a client stream, the shape of KurrentDB's
Append) and a server stream of N messages.

Run as `python -m bench.bare_grpc_server PORT`; it serves raw bytes, no protobuf work, no
storage, so what it measures is the transport alone.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc


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


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(_echo),
        "Ack": grpc.unary_unary_rpc_method_handler(_ack),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream),
        "Collect": grpc.stream_unary_rpc_method_handler(_collect),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bare.Bare", handlers),))
    server.add_insecure_port(f"127.0.0.1:{sys.argv[1]}")
    server.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
