"""The API's connections: accepted sockets have Nagle's algorithm off (TCP_NODELAY), so a client
that keeps its connection open is not held back by its own delayed ACKs on every request."""

from __future__ import annotations

import socket
import time

from fastapi import FastAPI

from caseledger.adapters.http.server import HttpServer


def _accepted_sockets(server: HttpServer) -> list[socket.socket]:
    connections = server._server.server_state.connections  # uvicorn's open connections
    return [c.transport.get_extra_info("socket") for c in connections]


def test_accepted_connections_have_tcp_nodelay() -> None:
    _assert_tcp_nodelay(HttpServer.start(FastAPI()))


def test_accepted_connections_have_tcp_nodelay_on_asyncio() -> None:
    """asyncio's loop (where uvloop is not installed) sets it only on a TCP listener's sockets."""
    _assert_tcp_nodelay(HttpServer.start(FastAPI(), loop="asyncio"))


def _assert_tcp_nodelay(server: HttpServer) -> None:
    try:
        with socket.create_connection((server.host, server.port), timeout=10) as client:
            request = f"GET /openapi.json HTTP/1.1\r\nHost: {server.host}\r\n\r\n"
            client.sendall(request.encode())
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
            deadline = time.monotonic() + 10
            while not (accepted := _accepted_sockets(server)) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(accepted) == 1
            assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.stop()
