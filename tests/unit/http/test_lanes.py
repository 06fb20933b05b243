"""Which requests the lean lane answers, and that every other one reaches the routes with its
body whole (`caseledger.adapters.http.lanes`)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from caseledger.adapters.http.binding import CommandRequest
from caseledger.adapters.http.guards import PRINCIPAL
from caseledger.adapters.http.lanes import TELEMETRY, Lane, Lanes
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.actors import Actor, ActorType, Role

ALICE = Principal("t1", Actor(ActorType.USER, "alice", frozenset({Role.ANALYST})))
BODY = b'{"command_type": "open_case", "payload": {"case_id": "c-1"}}'


class Routes:
    """The app behind the lane: records what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message["body"], message["more_body"]
        self.bodies.append(body)
        await JSONResponse({"by": "route"})(scope, receive, send)


async def _by_lane(envelope: Any) -> Response:
    return JSONResponse({"by": "lane", "command_type": envelope.command_type})


def _post(
    lanes: Lanes, body: bytes, *, content_type: bytes = b"application/json", **scope: Any
) -> dict[str, Any]:
    sent: list[Message] = []
    chunks = [body[:10], body[10:]]

    async def receive() -> Message:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    request: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/commands",
        "root_path": "",
        "headers": [(b"content-type", content_type)] if content_type else [],
        "state": {PRINCIPAL: ALICE},
        **scope,
    }
    asyncio.run(lanes(request, receive, send))
    return dict(orjson.loads(sent[1]["body"]))


@pytest.fixture
def routes() -> Routes:
    return Routes()


@pytest.fixture
def lanes(routes: Routes) -> Lanes:
    return Lanes(routes, {"/v1/commands": Lane(CommandRequest, _by_lane)}, handlers={})


def test_a_well_formed_command_is_answered_by_its_lane(lanes: Lanes, routes: Routes) -> None:
    assert _post(lanes, BODY) == {"by": "lane", "command_type": "open_case"}
    assert routes.bodies == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"command_type": "open_case"}', b"application/json"),  # no payload: invalid
        (b'{"command_type": "open_case", "payload": {}', b"application/json"),  # not JSON
        (b'{"command_type": "open_case", "tenant_id": "t2", "payload": {}}', b"application/json"),
        (BODY, b"application/json; charset=utf-8"),
        (BODY, b"text/plain"),
        (BODY, b""),
        (b"", b"application/json"),
    ],
)
def test_anything_else_reaches_the_route_with_its_body_whole(
    lanes: Lanes, routes: Routes, body: bytes, content_type: bytes
) -> None:
    assert _post(lanes, body, content_type=content_type) == {"by": "route"}
    assert routes.bodies == [body]


@pytest.mark.parametrize(
    "scope",
    [
        {TELEMETRY: object()},  # the framework observes this request: its routes must see it
        {"method": "PUT"},
        {"path": "/v1/commands/"},
        {"root_path": "/api"},
        {"state": {}},  # no principal (not behind `Authenticate`)
    ],
)
def test_requests_the_lane_does_not_take_reach_the_route(
    lanes: Lanes, routes: Routes, scope: dict[str, Any]
) -> None:
    assert _post(lanes, BODY, **scope) == {"by": "route"}
    assert routes.bodies == [BODY]


def test_an_error_of_the_lanes_work_is_answered_by_the_apps_handler(routes: Routes) -> None:
    async def failing(envelope: Any) -> Response:
        raise KeyError("x")

    def handler(request: Any, error: Exception) -> Response:
        return JSONResponse({"handled": type(error).__name__}, status_code=503)

    lanes = Lanes(routes, {"/v1/commands": Lane(CommandRequest, failing)}, {LookupError: handler})
    assert _post(lanes, BODY) == {"handled": "KeyError"}


def test_an_error_without_a_handler_goes_up_even_with_one_for_every_exception(
    routes: Routes,
) -> None:
    """`Exception`'s handler is the server-error middleware's, which answers 500 above."""

    async def failing(envelope: Any) -> Response:
        raise KeyError("x")

    def handler(request: Any, error: Exception) -> Response:
        raise AssertionError("not this one")

    lanes = Lanes(routes, {"/v1/commands": Lane(CommandRequest, failing)}, {Exception: handler})
    with pytest.raises(KeyError):
        _post(lanes, BODY)
