"""The body limit in front of every HTTP entry point (the API, and MCP over HTTP): a body over
`max_bytes` (declared by Content-Length or counted as it arrives) is answered 413
problem+json before the application sees any of it; at most `max_bytes` are held. The rest is
read and dropped (up to `DRAIN_LIMIT`) so the client gets the answer instead of a reset
connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import anyio
import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caseledger.adapters.problem_details import PROBLEM_JSON, problem_body

DRAIN_LIMIT: Final = 64 * 1024 * 1024
"""Bytes of an oversized body read and dropped at most before answering; past it the
connection is closed under the client."""


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        on_refused: Callable[[Scope], None] | None = None,
    ) -> None:
        """`on_refused(scope)` is told of each 413 (e.g. to record it), on a worker thread,
        before it is sent."""
        self._app = app
        self._max = max_bytes
        self._on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body = await self._read(scope, receive)
        if body is None:
            if self._on_refused is not None:
                await anyio.to_thread.run_sync(self._on_refused, scope)
            await send_problem(
                send,
                413,
                "rejected",
                "payload_too_large",
                f"the request body is over {self._max} bytes (CASELEDGER_HTTP_MAX_BODY)",
            )
            return
        await self._app(scope, replaying(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None (after draining it) when it is over the limit."""
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self._max:
            await _drain(receive, 0)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max:
                if message.get("more_body", False):
                    await _drain(receive, size)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body read, then whatever comes next (disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _drain(receive: Receive, already: int) -> None:
    read = already
    while read <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def send_problem(
    send: Send,
    status: int,
    outcome: str,
    reason_code: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a problem document, straight on the ASGI channel."""
    body = orjson.dumps(problem_body(status, outcome, reason_code, detail))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
