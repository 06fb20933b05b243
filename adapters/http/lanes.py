"""The lean lane for `POST /v1/commands` and `POST /v1/queries`: a request that is well formed
from end to end is answered here, without the framework's routing and dependency resolution;
every other request goes on to the FastAPI routes, which answer it exactly as they always do.

Rules:
- The lane sits inside `Authenticate` and `BodyLimit` (so the caller is known and the body is
  within bounds) and outside the framework's exception middleware: every request reaches it
  with the same access log, request id, 401 and 413 as any other.
- It takes a request only when the routes would read it the same way, and then does what the
  route does, with the same functions: the body is JSON by its `Content-Type`
  (`application/json`) and parses (`json.loads`, as the routes do), validates as the request
  model (as the routes validate it), and binds to the caller's envelope. At the first step that
  does not hold it hands the request on, with the body it read, untouched: validation errors,
  refusals of identity, a body that is not JSON are all answered by the routes and recorded
  as they record them.
- The command or query then runs on the same `StoreCalls` as the route's (one bound on
  threads and time for both ways in), and its answer is the route's (`command_answer`,
  `query_answer`). An exception is answered by the app's handler for it, as the framework's
  exception middleware would; one with no handler goes up to the server-error middleware (500).
- With the framework's own telemetry on (a tracer, meter or logger provider configured), every
  request goes to the routes, whose spans and metrics it records."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from caseledger.adapters.body_limit import replaying
from caseledger.adapters.http.binding import CommandRequest, QueryRequest
from caseledger.adapters.http.guards import principal_of
from caseledger.adapters.tokens import Principal

JSON: Final = "application/json"
TELEMETRY: Final = "fastapi.telemetry"
"""The scope key the framework's telemetry sets on the requests it observes."""

Answer = Callable[[Any], Awaitable[Response]]
"""A lane's work, the route's own: the envelope in, the response out. It may raise what the
route's work raises (the app's handlers answer it)."""


class Lane:
    """One route's lean way: its request model and its work."""

    def __init__(self, model: type[CommandRequest] | type[QueryRequest], answer: Answer) -> None:
        self.model = model
        self.answer = answer

    def bind(self, body: bytes, caller: Principal) -> object | None:
        """The envelope as the route would bind it, or None where the route would answer
        something else (it is then the route's to answer)."""
        try:
            request = self.model.model_validate(json.loads(body), from_attributes=True)
            return request.envelope(caller)
        except Exception:
            return None


class Lanes:
    """ASGI middleware: `lanes` maps a path to the lane of its POST; `handlers` are the app's
    exception handlers (the app's own mapping, read when a lane's work raises; its `Exception`
    entry is the server-error middleware's, as in the framework)."""

    def __init__(
        self, app: ASGIApp, lanes: Mapping[str, Lane], handlers: Mapping[Any, Any]
    ) -> None:
        self._app = app
        self._lanes = lanes
        self._handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane(scope)
        caller = principal_of(scope) if lane is not None else None
        if lane is None or caller is None:
            await self._app(scope, receive, send)
            return
        body = await _body(receive)
        envelope = lane.bind(body, caller) if body and _is_json(scope) else None
        if envelope is None:
            await self._app(scope, replaying(body, receive), send)
            return
        try:
            response = await lane.answer(envelope)
        except Exception as error:
            response = await self._handled(scope, receive, send, error)
        await response(scope, receive, send)

    def _lane(self, scope: Scope) -> Lane | None:
        if scope["type"] != "http" or scope["method"] != "POST" or TELEMETRY in scope:
            return None
        if scope.get("root_path"):
            return None
        return self._lanes.get(scope["path"])

    async def _handled(
        self, scope: Scope, receive: Receive, send: Send, error: Exception
    ) -> Response:
        """The response of the app's handler for `error` (raised again when there is none)."""
        classes = [c for c in type(error).__mro__ if c is not Exception]
        handler = next((self._handlers[c] for c in classes if c in self._handlers), None)
        if handler is None:
            raise error
        request = Request(scope, receive, send)
        if inspect.iscoroutinefunction(handler):
            response: Response = await handler(request, error)
        else:
            response = await run_in_threadpool(handler, request, error)
        error.__traceback__ = None  # a reused exception would keep every request's frames
        return response


def _is_json(scope: Scope) -> bool:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1").lower() == JSON
    return False


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
