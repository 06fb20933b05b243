"""The HTTP API. Thin: authenticate (before the body is read), bound the body (before it is
parsed), bind the envelope to the token's principal, call the service, map the outcome to a
status (see `answers` and the table of reasons, `reasons`). Every error is problem+json; a
request refused before it became a command is recorded in the token tenant's command log.
A well-formed command or query is answered by its lane (`lanes`), with the route's own work;
anything else about it by the route.

Whatever the event store does, the API answers in bounded time: commands and queries run on
threads of their own (`StoreCalls`), each within CASELEDGER_EVENTSTORE_TIMEOUT in all (a command
that runs out of it is 503 `event_store_unavailable`); `/readyz` asks the store for at most
`READY_WITHIN` seconds; `/healthz` is answered on the event loop itself, behind nothing."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import Scope

from caseledger.adapters.body_limit import BodyLimit
from caseledger.adapters.bootstrap import PROJECTIONS_STALLED, App
from caseledger.adapters.console.app import install_console
from caseledger.adapters.console.services import ConsoleServices
from caseledger.adapters.http import audit, whatif
from caseledger.adapters.http.access import AccessLoggedAPI
from caseledger.adapters.http.answers import command_answer, query_answer
from caseledger.adapters.http.auth import Caller, Unauthenticated
from caseledger.adapters.http.binding import CommandRequest, IdentityRefused, QueryRequest
from caseledger.adapters.http.docs import install_docs
from caseledger.adapters.http.guards import Authenticate, principal_of
from caseledger.adapters.http.lanes import Lane, Lanes
from caseledger.adapters.http.openapi import install_typed_openapi
from caseledger.adapters.http.problems import problem, problem_responses
from caseledger.adapters.refusals import RefusalLog, refusal_of
from caseledger.adapters.store_calls import StoreCalls
from caseledger.adapters.tokens import Principal
from caseledger.domain.application.commandlog import Refusal
from caseledger.domain.application.ports import (
    CommandHandler,
    EventStoreUnavailable,
    QueryHandler,
)
from caseledger.domain.shared.envelopes import (
    CommandEnvelope,
    CommandResult,
    QueryEnvelope,
    QueryResult,
)
from caseledger.domain.shared.errors import describe_invalid
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode

log = logging.getLogger(__name__)

_COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "requires_approval", "model": CommandResult},
    **problem_responses(401, 403, 404, 409, 413, 422, 503),
}
STORE_UNAVAILABLE_DETAIL = (
    "the event store is unavailable for now; retry with the same idempotency key"
    " (safe whether or not the first attempt landed)"
)
_QUERY_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 404, 413, 422, 503)
NOT_JSON_DETAIL = "the body is not UTF-8 JSON"
COMMANDS_PATH = "/v1/commands"
QUERIES_PATH = "/v1/queries"
READY_WITHIN = 1.0
"""Seconds `/readyz` waits for the event store at most (it answers within 2 s)."""


def create_app(
    caseledger: App,
    *,
    commands: CommandHandler | None = None,
    queries: QueryHandler | None = None,
) -> FastAPI:
    """The API over `caseledger`'s services (traced when the composition root was asked to
    observe them); `commands` / `queries` replace them (e.g. with a test's handler)."""
    command_service = commands or caseledger.commands
    query_service = queries or caseledger.queries
    api = AccessLoggedAPI(
        title="caseledger",
        version="1",
        description=(
            "Event-sourced regulatory case work: agents propose, handlers commit, events "
            "record facts. Authenticate with `Authorization: Bearer <token>`; the tenant and "
            "actor are the token's. Every answer carries `X-Request-Id`."
        ),
        docs_url=None,
        redoc_url=None,
    )
    api.state.caseledger = caseledger
    refusals = caseledger.refusals
    timeout = caseledger.settings.eventstore_timeout
    command_calls, query_calls = StoreCalls(timeout), StoreCalls(timeout)
    readiness = StoreCalls(min(timeout, READY_WITHIN), threads=2)

    async def run_command(envelope: CommandEnvelope) -> JSONResponse:
        return command_answer(envelope, await command_calls.run(command_service.handle, envelope))

    async def run_query(query: QueryEnvelope) -> JSONResponse:
        return query_answer(await query_calls.run(query_service.handle, query))

    lanes = {
        COMMANDS_PATH: Lane(CommandRequest, run_command),
        QUERIES_PATH: Lane(QueryRequest, run_query),
    }
    api.add_middleware(Lanes, lanes=lanes, handlers=api.exception_handlers)
    api.add_middleware(
        BodyLimit,
        max_bytes=caseledger.settings.http_max_body,
        on_refused=lambda scope: _record_too_large(refusals, scope),
    )
    api.add_middleware(Authenticate, tokens=caseledger.tokens, prefix="/v1")
    _errors(api, refusals)
    api.include_router(audit.router)
    api.include_router(whatif.router)

    @api.post(
        COMMANDS_PATH,
        response_model=CommandResult,
        responses=_COMMAND_RESPONSES,
        summary="Issue a command (CommandEnvelope -> CommandResult)",
    )
    async def post_command(body: CommandRequest, caller: Caller) -> JSONResponse:
        try:
            envelope = body.envelope(caller)
        except IdentityRefused as error:
            return await command_calls.run(_identity_refused, refusals, caller, body, error)
        return await run_command(envelope)

    @api.post(
        QUERIES_PATH,
        response_model=QueryResult,
        responses=_QUERY_RESPONSES,
        summary="Ask a query (QueryEnvelope -> QueryResult)",
    )
    async def post_query(body: QueryRequest, caller: Caller) -> JSONResponse:
        try:
            query = body.envelope(caller)
        except IdentityRefused as error:
            return await query_calls.run(_identity_refused, refusals, caller, body, error)
        return await run_query(query)

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
            stalled = detail.startswith(PROJECTIONS_STALLED)  # the read store fails: it waits
            reason = "projections_stalled" if stalled else "not_ready"
            return problem(503, "unavailable", reason, detail)
        return JSONResponse({"status": "ready"})

    install_typed_openapi(api)
    install_docs(api)
    install_console(api, ConsoleServices.of(caseledger, command_service, query_service))
    return api


def _errors(api: FastAPI, refusals: RefusalLog) -> None:
    @api.exception_handler(Unauthenticated)
    def unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        return problem(
            401,
            "rejected",
            "unauthenticated",
            error.detail,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(RequestValidationError)  # the body is not an envelope
    @api.exception_handler(ValidationError)  # the envelope built from it is invalid
    def invalid(request: Request, error: RequestValidationError | ValidationError) -> JSONResponse:
        detail = describe_invalid(error.errors())
        body = error.body if isinstance(error, RequestValidationError) else None
        _record_invalid(refusals, request, body, detail)
        return problem(422, "validation_error", ReasonCode.INVALID_PAYLOAD.value, detail)

    @api.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body the framework could not even decode
            _record_invalid(refusals, request, None, NOT_JSON_DETAIL)
            return problem(
                422, "validation_error", ReasonCode.INVALID_PAYLOAD.value, NOT_JSON_DETAIL
            )
        reason = {404: "no_such_route", 405: "method_not_allowed"}.get(error.status_code, "error")
        return problem(
            error.status_code,
            "rejected",
            reason,
            str(error.detail),
            headers=dict(error.headers or {}),
        )

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


def _identity_refused(
    refusals: RefusalLog,
    caller: Principal,
    body: CommandRequest | QueryRequest,
    error: IdentityRefused,
) -> JSONResponse:
    """403, recorded in the token tenant's command log (the body's claims are not trusted)."""
    fields = body.model_dump(mode="json", exclude={"payload"})
    query = isinstance(body, QueryRequest)
    _record(
        refusals,
        refusal_of(
            caller, fields, CommandOutcome.REJECTED, error.reason.value, error.detail, query=query
        ),
    )
    return problem(403, "rejected", error.reason.value, error.detail)


def _record(refusals: RefusalLog, refusal: Refusal) -> None:
    """Record `refusal`; with the event store unavailable the refusal is still answered (and
    the record's loss logged)."""
    try:
        refusals.record_refusal(refusal)
    except EventStoreUnavailable as error:
        log.warning("refusal %s not recorded: %s", refusal.command_id, error)


def _record_invalid(refusals: RefusalLog, request: Request, body: object, detail: str) -> None:
    """A command body that is not an envelope, from an authenticated caller, is recorded."""
    caller = principal_of(request.scope)
    if caller is not None and request.url.path == COMMANDS_PATH:
        _record(
            refusals,
            refusal_of(
                caller,
                body,
                CommandOutcome.VALIDATION_ERROR,
                ReasonCode.INVALID_PAYLOAD.value,
                detail,
            ),
        )


def _record_too_large(refusals: RefusalLog, scope: Scope) -> None:
    caller = principal_of(scope)
    if caller is not None and scope.get("path") == COMMANDS_PATH:
        _record(
            refusals,
            refusal_of(
                caller, None, CommandOutcome.REJECTED, "payload_too_large", "the body is too large"
            ),
        )
