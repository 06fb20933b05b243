"""The access log and the request id: one record per request on the `caseledger.access`
logger, and an `X-Request-Id` header on every answer.

A record carries method, path, status, duration in ms, tenant, actor and request id (as the
log record's extra fields, and in its message) — never a token, a query string or a body.
The path is cut to `MAX_PATH` characters and anything unprintable in it escaped, so a request
cannot forge or flood log lines. A client's own `X-Request-Id` is kept when it is a short
token (`REQUEST_ID`), else the request gets a fresh one.

How records are written is the process's choice (`configure_access_log`): `serve` writes
them to stderr, as JSON lines when `CASELEDGER_OTEL` is on (the JSON log handler) and as plain
text otherwise, or not at all with `CASELEDGER_ACCESS_LOG=off`."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Final

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caseledger.adapters.http.guards import principal_of

log = logging.getLogger("caseledger.access")

HEADER: Final = "X-Request-Id"
REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_PATH: Final = 200
PLAIN_FORMAT: Final = "%(asctime)s %(message)s"


class AccessLog:
    """ASGI middleware: put it outside everything else, so that even a 500 carries the id."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            _record(scope, status, (time.perf_counter() - started) * 1000, request_id)


class AccessLoggedAPI(FastAPI):
    """FastAPI with `AccessLog` outside every other middleware, the error handler included."""

    def build_middleware_stack(self) -> ASGIApp:
        return AccessLog(super().build_middleware_stack())


def configure_access_log(enabled: bool, json_lines: bool) -> None:
    """Write access records to stderr (plain text unless `json_lines`: then they go to the
    root logger's JSON handler), or drop them."""
    log.handlers = []
    if not enabled:
        log.setLevel(logging.CRITICAL + 1)
        log.propagate = False
        return
    log.setLevel(logging.INFO)
    log.propagate = json_lines
    if not json_lines:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
        log.addHandler(handler)


def _request_id(scope: Scope) -> str:
    given = Headers(scope=scope).get(HEADER, "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _record(scope: Scope, status: int, duration_ms: float, request_id: str) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    principal = principal_of(scope)
    fields = {
        "method": printable(str(scope.get("method", "")), 16),
        "path": printable(str(scope.get("path", "")), MAX_PATH),
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "tenant": principal.tenant_id if principal else "-",
        "actor": principal.actor.key if principal else "-",
        "request_id": request_id,
    }
    log.info(
        "%(method)s %(path)s %(status)s %(duration_ms).1f ms tenant=%(tenant)s "
        "actor=%(actor)s request_id=%(request_id)s",
        fields,
        extra=fields,
    )


def printable(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with spaces, backslashes and anything unprintable
    escaped (so one field stays one word of one line)."""
    escaped = "".join(_escape(ch) for ch in text[:limit])
    return escaped + ("…" if len(text) > limit else "")


def _escape(ch: str) -> str:
    if ch == " ":
        return "\\x20"
    if ch.isprintable() and ch != "\\":
        return ch
    return ch.encode("unicode_escape").decode("ascii")
