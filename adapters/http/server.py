"""Serve the HTTP API with uvicorn in a background thread, on a socket bound up front (port 0
picks a free one), so the caller owns signals and shutdown order.

uvicorn parses HTTP with httptools and runs its loop on uvloop where they are installed (both
are dependencies; a platform without them gets h11 and asyncio, with the same answers)."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


HTTP_PARSER = "httptools" if _installed("httptools") else "h11"
LOOP = "uvloop" if _installed("uvloop") else "asyncio"


class HttpServerError(Exception):
    """The API could not listen or did not start: the message says why."""


class HttpServer:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int):
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def start(
        cls,
        api: FastAPI,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 10.0,
        *,
        loop: str = LOOP,
    ) -> HttpServer:
        """`loop`: "uvloop" or "asyncio" (the default is uvloop where installed)."""
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are
            # TCP, and accepted connections inherit the listener's protocol number (uvloop
            # sets it on every TCP connection).
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError as error:
            raise HttpServerError(f"cannot listen on {host}:{port}: {error}") from error
        bound = sock.getsockname()[1]
        config = uvicorn.Config(
            api,
            http=HTTP_PARSER,
            loop=loop,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="http-api", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise HttpServerError(f"the HTTP API did not start on {host}:{bound}")
            time.sleep(0.01)
        return cls(server, thread, host, bound)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish (up to `timeout`), join."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(2.0)
