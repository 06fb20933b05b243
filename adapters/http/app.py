"""The HTTP API. Thin: authenticate, bind the envelope to the token's principal, call the
service, map the outcome to a status (see `answers`). Every error is problem+json.

Whatever the event store does, the API answers in bounded time: commands and queries run on
threads of their own (`StoreCalls`), each within CASELEDGER_EVENTSTORE_TIMEOUT in all (a command
that runs out of it is 503 `event_store_unavailable`); `/readyz` asks the store for at most
`READY_WITHIN` seconds; `/healthz` is answered on the event loop itself, behind nothing."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from caseledger.adapters.bootstrap import App
from caseledger.adapters.http import audit
from caseledger.adapters.http.answers import command_answer, query_answer
from caseledger.adapters.http.auth import Caller, Unauthenticated
from caseledger.adapters.http.binding import CommandRequest, IdentityRefused, QueryRequest
from caseledger.adapters.http.problems import problem, problem_responses
from caseledger.adapters.store_calls import StoreCalls
from caseledger.domain.application.ports import EventStoreUnavailable
from caseledger.domain.shared.envelopes import (
    CommandEnvelope,
    CommandResult,
    QueryEnvelope,
    QueryResult,
)
from caseledger.domain.shared.errors import describe_invalid
from caseledger.domain.shared.reasons import ReasonCode

log = logging.getLogger(__name__)

_COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "requires_approval", "model": CommandResult},
    **problem_responses(401, 403, 404, 409, 422, 503),
}
STORE_UNAVAILABLE_DETAIL = (
    "the event store is unavailable for now; retry with the same idempotency key"
    " (safe whether or not the first attempt landed)"
)
_QUERY_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 404, 422, 503)
READY_WITHIN = 1.0
"""Seconds `/readyz` waits for the event store at most (it answers within 2 s)."""


class Commands(Protocol):
    def handle(self, envelope: CommandEnvelope) -> CommandResult: ...


class Queries(Protocol):
    def handle(self, query: QueryEnvelope) -> QueryResult: ...


def create_app(
    caseledger: App, *, commands: Commands | None = None, queries: Queries | None = None
) -> FastAPI:
    """The API over `caseledger`'s services; `commands` / `queries` replace them (e.g. with
    instrumented wrappers that have the same `handle`)."""
    command_service: Commands = commands or caseledger.commands
    query_service: Queries = queries or caseledger.queries
    api = FastAPI(
        title="caseledger",
        version="1",
        description=(
            "Event-sourced regulatory case work: agents propose, handlers commit, events "
            "record facts. Authenticate with `Authorization: Bearer <token>`; the tenant and "
            "actor are the token's."
        ),
    )
    api.state.caseledger = caseledger
    timeout = caseledger.settings.eventstore_timeout
    command_calls, query_calls = StoreCalls(timeout), StoreCalls(timeout)
    readiness = StoreCalls(min(timeout, READY_WITHIN), threads=2)
    _errors(api)
    api.include_router(audit.router)

    @api.post(
        "/v1/commands",
        response_model=CommandResult,
        responses=_COMMAND_RESPONSES,
        summary="Issue a command (CommandEnvelope -> CommandResult)",
    )
    async def post_command(body: CommandRequest, caller: Caller) -> JSONResponse:
        envelope = body.envelope(caller)
        return command_answer(envelope, await command_calls.run(command_service.handle, envelope))

    @api.post(
        "/v1/queries",
        response_model=QueryResult,
        responses=_QUERY_RESPONSES,
        summary="Ask a query (QueryEnvelope -> QueryResult)",
    )
    async def post_query(body: QueryRequest, caller: Caller) -> JSONResponse:
        return query_answer(await query_calls.run(query_service.handle, body.envelope(caller)))

    @api.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", responses=problem_responses(503), summary="Readiness")
    async def readyz() -> JSONResponse:
        try:
            ready, detail = await readiness.run(caseledger.ready)
        except EventStoreUnavailable as error:
            ready, detail = False, f"event store unreachable: {error}"
        if not ready:
            return problem(503, "unavailable", "not_ready", detail)
        return JSONResponse({"status": "ready"})

    return api


def _errors(api: FastAPI) -> None:
    @api.exception_handler(Unauthenticated)
    def unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        return problem(
            401,
            "rejected",
            "unauthenticated",
            error.detail,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(IdentityRefused)
    def identity_refused(request: Request, error: IdentityRefused) -> JSONResponse:
        return problem(403, "rejected", error.reason.value, error.detail)

    @api.exception_handler(RequestValidationError)  # the body is not an envelope
    @api.exception_handler(ValidationError)  # the envelope built from it is invalid
    def invalid(request: Request, error: RequestValidationError | ValidationError) -> JSONResponse:
        return problem(
            422,
            "validation_error",
            ReasonCode.INVALID_PAYLOAD.value,
            describe_invalid(error.errors()),
        )

    @api.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> JSONResponse:
        reason = {404: "no_such_route", 405: "method_not_allowed"}.get(error.status_code, "error")
        return problem(error.status_code, "rejected", reason, str(error.detail))

    @api.exception_handler(EventStoreUnavailable)  # on the loop: needs no thread to answer
    async def store_unavailable(request: Request, error: EventStoreUnavailable) -> JSONResponse:
        log.warning("event store unavailable: %s %s: %s", request.method, request.url.path, error)
        return problem(
            503,
            "unavailable",
            "event_store_unavailable",
            STORE_UNAVAILABLE_DETAIL,
            headers={"Retry-After": "1"},
        )

    @api.exception_handler(Exception)
    def failure(request: Request, error: Exception) -> JSONResponse:
        log.exception("request failed: %s %s", request.method, request.url.path)
        return problem(500, "error", "internal_error", type(error).__name__)
