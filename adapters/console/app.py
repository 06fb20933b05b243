"""`/console`: the web console for the people in the loop, served beside the HTTP API.

    install_console(api, ConsoleServices.of(app))

Routes: `/console/login`, `/console/logout`, `/console` (the reviewer inbox; a decision is
POSTed to it), `/console/cases`, `/console/cases/{case_id}`, `/console/audit/cases/{case_id}`,
`/console/audit/correlations/{id}`, `/console/ops` (supervisors; retries are POSTed to it), and
the console's own files under `/console/static/` (htmx and the stylesheet, shipped in this
package: nothing is loaded from elsewhere).

Rules: only a user token signs in (agents and the system are refused); everything is done as
that user through the command and query services; every form carries its session's CSRF token
and a form without it changes nothing (403); the session cookie is for `/console` only and
never authenticates `/v1` (the API reads only `Authorization: Bearer`). Pages that are not
found say the same whether the id is unknown, invalid or another tenant's.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from caseledger.adapters.console import pages
from caseledger.adapters.console.services import ConsoleServices
from caseledger.adapters.console.sessions import Sessions, console_secret
from caseledger.adapters.console.visits import PREFIX, STATIC, Visit, Visits, templates

STATIC_DIR: Final = pages.PACKAGE / "static"


def install_console(api: FastAPI, services: ConsoleServices) -> None:
    """Add the console's routes and files to `api` (left out of its OpenAPI document)."""
    secret = services.settings.console_secret
    key = console_secret(secret.get_secret_value() if secret else None, services.settings.data_dir)
    visits = Visits(Sessions(key), services.tokens, templates())
    api.mount(STATIC, StaticFiles(directory=STATIC_DIR, follow_symlink=True), name="console")
    api.include_router(_router(services, visits), include_in_schema=False)


def _router(services: ConsoleServices, visits: Visits) -> APIRouter:
    router = APIRouter(prefix=PREFIX)
    console = pages.Console(services, visits)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        return console.login_form(visits.visit(request))

    @router.post("/login")
    async def login(request: Request) -> Response:
        return console.login(visits.visit(request), await _form(request))

    @router.get("/logout")
    def logout_form(request: Request) -> Response:
        return console.logout_form(visits.visit(request))

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        return console.logout(visits.visit(request), await _form(request))

    @router.get("")
    def inbox(request: Request) -> Response:
        return console.inbox(visits.visit(request))

    @router.post("")
    async def decide(request: Request) -> Response:
        form = await _form(request)
        return await _threaded(console.decide, visits.visit(request), form)

    @router.get("/cases")
    def cases(request: Request) -> Response:
        return console.cases(visits.visit(request))

    @router.get("/cases/{case_id}")
    def case(request: Request, case_id: str) -> Response:
        return console.case(visits.visit(request), case_id)

    @router.get("/audit/cases/{case_id}")
    def audit_case(request: Request, case_id: str) -> Response:
        return console.audit(visits.visit(request), "case", case_id)

    @router.get("/audit/correlations/{correlation_id}")
    def audit_correlation(request: Request, correlation_id: str) -> Response:
        return console.audit(visits.visit(request), "correlation", correlation_id)

    @router.get("/ops")
    def ops(request: Request) -> Response:
        return console.ops(visits.visit(request))

    @router.post("/ops")
    async def ops_retry(request: Request) -> Response:
        form = await _form(request)
        return await _threaded(console.ops_retry, visits.visit(request), form)

    return router


async def _form(request: Request) -> dict[str, str]:
    """The posted form's text fields (files are ignored; the body is bounded by BodyLimit)."""
    form = await request.form(max_files=0, max_fields=50)
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _threaded(call: pages.FormHandler, visit: Visit, form: dict[str, str]) -> Response:
    """Commands and retries block on the stores: off the event loop."""
    return await run_in_threadpool(call, visit, form)
