"""`caseledger mcp`: the agents' tools (seed §25) over MCP, on stdio or streamable HTTP.

The agent's identity is the server's, never a tool argument's:
- `--token S` (an agent token from the tokens file), or `--tenant T --agent-name A [--run-id R]`
  fixes one identity for the process (stdio needs one of them);
- over HTTP without either, every request's `Authorization: Bearer` token names the agent.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import anyio
import typer

from caseledger.adapters.bootstrap import (
    BootstrapError,
    StoreFormatRefused,
    bootstrap,
    token_registry,
)
from caseledger.adapters.cli.session import EXIT_UNREACHABLE
from caseledger.adapters.mcp.identity import (
    AgentIdentity,
    IdentityError,
    IdentitySource,
    identity_for_token,
    new_run_id,
)
from caseledger.adapters.mcp.server import build_server, http_app, serve_http
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.adapters.runtime import tune_gc
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import TokenRegistry, TokensFileError
from caseledger.domain.application.ports import EventStoreUnavailable
from caseledger.domain.shared.streams import InvalidId, check_tenant_id


class Transport(StrEnum):
    STDIO = "stdio"
    HTTP = "http"


def mcp(
    transport: Annotated[
        Transport, typer.Option(help="stdio (one agent per process) or streamable http.")
    ] = Transport.STDIO,
    token: Annotated[
        str | None, typer.Option(help="An agent token from the tokens file: fixes the identity.")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="The agent's tenant (with --agent-name).")
    ] = None,
    agent_name: Annotated[str | None, typer.Option(help="The agent's name.")] = None,
    run_id: Annotated[
        str | None, typer.Option(help="The agent's run id (default: a new one per process).")
    ] = None,
    host: Annotated[str, typer.Option(help="HTTP: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP: port to listen on.")] = 8001,
    path: Annotated[str, typer.Option(help="HTTP: the MCP endpoint's path.")] = "/mcp",
    runner: Annotated[
        bool,
        typer.Option(
            help="Run the projection runner in this process (off when a separate "
            "`projections` process keeps the views)."
        ),
    ] = True,
) -> None:
    """Serve the agent tools over MCP: get_case_summary, search_evidence, create_notice_draft,
    propose_case_escalation, propose_risk_update, request_approval, send_approved_notice."""
    settings = Settings()
    try:
        tokens = token_registry(settings)
    except TokensFileError as error:
        _fail(str(error))
    fixed = _fixed_identity(tokens, token, tenant, agent_name, run_id)
    if fixed is None and transport is Transport.STDIO:
        _fail("stdio needs an identity: --token, or --tenant and --agent-name")
    if fixed is None and len(tokens) == 0:
        _fail("no tokens configured (CASELEDGER_TOKENS_FILE): every request would be refused")
    try:
        app = bootstrap(
            settings, tokens=tokens, observed_as="caseledger", observe_projections=runner
        )
    except StoreFormatRefused as error:
        print(f"caseledger mcp: {error}", file=sys.stderr)
        raise typer.Exit(1) from error
    except EventStoreUnavailable as error:
        print(f"caseledger mcp: the event store does not answer: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_UNREACHABLE) from error
    except BootstrapError as error:
        _fail(
            f"{error} (is `caseledger serve` using this data dir? then point "
            "CASELEDGER_EVENTSTORE_URL at its store)"
        )
    tune_gc()  # start-up is done: the server runs from here on
    try:
        if runner:
            app.start()
        source = IdentitySource(fixed)
        server = build_server(
            CaseTools(app.commands, app.queries, source.current, refusals=app.refusals),
            timeout=settings.eventstore_timeout,
        )
        if transport is Transport.STDIO:
            anyio.run(server.run_stdio_async)
        else:
            per_request = None if fixed else app.tokens
            asgi = http_app(server, per_request, host, path, settings.http_max_body)
            print(f"caseledger mcp: streamable HTTP on http://{host}:{port}{path}", file=sys.stderr)
            anyio.run(serve_http, asgi, host, port)
    finally:
        app.close()  # the telemetry first


def _fixed_identity(
    tokens: TokenRegistry,
    token: str | None,
    tenant: str | None,
    agent_name: str | None,
    run_id: str | None,
) -> AgentIdentity | None:
    if token is not None:
        if tenant or agent_name or run_id:
            _fail("--token names the agent: do not combine it with --tenant/--agent-name/--run-id")
        try:
            return identity_for_token(tokens, token)
        except IdentityError as error:
            _fail(f"--token: {error}")
    if tenant is None and agent_name is None:
        if run_id is not None:
            _fail("--run-id needs --tenant and --agent-name")
        return None
    if not tenant or not agent_name:
        _fail("--tenant and --agent-name go together")
    try:
        check_tenant_id(tenant, "--tenant")
    except InvalidId as error:
        _fail(str(error))
    return AgentIdentity(tenant, agent_name, run_id or new_run_id())


def _fail(message: str) -> NoReturn:
    print(f"caseledger mcp: {message}", file=sys.stderr)
    raise typer.Exit(2)
