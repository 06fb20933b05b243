"""`caseledger serve`: the whole service with zero configuration.

It starts the event store (embedded on `data_dir/eventstore`, or CASELEDGER_EVENTSTORE_URL), the
read store (SQLite in the data dir, or CASELEDGER_READSTORE_URL), the projection runner (unless
`--no-runner`; in a child process it supervises when it hosts the embedded store, unless
CASELEDGER_RUNNER_IN=thread), the outbox relay and the notification worker (as CASELEDGER_OUTBOX and
CASELEDGER_SMTP_HOST say, see `caseledger.adapters.outbound`) and the HTTP API; writes a demo
tokens file into the data dir when no CASELEDGER_TOKENS_FILE is set and none is there yet;
prints what runs where and the demo tokens; and stops cleanly on SIGTERM/SIGINT: the API first
(in-flight requests finish), then the worker and the relay, then the runner, then the store.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from caseledger.adapters.bootstrap import (
    App,
    BootstrapError,
    bootstrap,
    embedded_store_served,
    tokens_path,
)
from caseledger.adapters.cli.session import EXIT_UNREACHABLE
from caseledger.adapters.cli.signals import stop_on_signals
from caseledger.adapters.console.walkthrough import agent_proposal_commands, how_to_run
from caseledger.adapters.http.access import configure_access_log
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.server import HttpServer, HttpServerError
from caseledger.adapters.outbound import Outbound, OutboundError
from caseledger.adapters.runtime import tune_gc
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import TokensFileError, demo_token_names, demo_tokens_document
from caseledger.domain.application.ports import EventStoreUnavailable

SERVE_URL_FILE: Final = "serve.url"
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address the HTTP API binds (default CASELEDGER_HTTP_HOST, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="HTTP API port, 0 = any free (default CASELEDGER_HTTP_PORT, 8000)."),
    ] = None,
    eventstore_port: Annotated[
        int | None,
        typer.Option(help="Embedded event store port (default CASELEDGER_EVENTSTORE_PORT, 2113)."),
    ] = None,
    runner: Annotated[
        bool,
        typer.Option(
            help="Run the projection runner in this process (--no-runner: a separate "
            "`caseledger projections run` keeps the views, shared by several API processes)."
        ),
    ] = True,
) -> None:
    """Run caseledger: event store, projection runner, outbox relay, notification worker and
    HTTP API, until SIGTERM/SIGINT.

    Zero configuration: everything lives in CASELEDGER_DATA_DIR (default ./data), and demo
    tokens are written to data/tokens.toml. Point it at real servers with
    CASELEDGER_EVENTSTORE_URL=kurrentdb://... and CASELEDGER_READSTORE_URL=postgresql://...
    The relay runs when NATS answers at CASELEDGER_NATS_URL (CASELEDGER_OUTBOX=auto|on|off),
    the notification worker when CASELEDGER_SMTP_HOST is set.
    """
    settings = Settings()
    refuse_a_second_serve(settings)
    written = ensure_tokens_file(settings)
    app = _bootstrap_or_exit(settings, eventstore_port, runner)
    configure_access_log(settings.access_log == "on", json_lines=settings.otel != "off")
    stop = stop_on_signals()
    tune_gc()  # start-up is done: the process runs from here on
    try:
        app.start(runner=runner)
        try:
            outbound = app.start_outbound()
        except OutboundError as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(code=1) from error
        api = create_app(app)
        try:
            http = HttpServer.start(
                api,
                settings.http_host if host is None else host,
                settings.http_port if port is None else port,
            )
        except HttpServerError as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(code=1) from error
        _announce(app, http.url, written, outbound, runner)
        _record_url(settings, http.url)
        stop.wait()
        console.print(
            "stopping: the HTTP API finishes its requests, then the worker, the relay, "
            "the runner and the store"
        )
        http.stop()
    finally:
        app.close()  # the telemetry first, then the worker, the relay, the runner, the store
    console.print("stopped cleanly")


def refuse_a_second_serve(settings: Settings) -> None:
    """Exit 1 when the data dir's embedded store is already served by another running process
    (its lock is held), naming it and how to scale out instead: a second serve would attach
    to its store and start a second runner and relay on the same files."""
    running = None if settings.eventstore_url else embedded_store_served(settings.data_dir)
    if running is None:
        return
    url = _recorded_url(settings)
    message = (
        f"another caseledger already serves {settings.data_dir} "
        f"(HTTP API {url or 'URL unknown'}, event store {running}): one serve per data dir. "
        "To scale out, run more API processes with `--no-runner` (one `caseledger projections "
        "run` keeps the views) on a shared external store: CASELEDGER_EVENTSTORE_URL="
        "kurrentdb://... and CASELEDGER_READSTORE_URL=postgresql://..."
    )
    errors.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code=1)


def _record_url(settings: Settings, url: str) -> None:
    """Where this serve answers, for a second one's refusal to name."""
    with contextlib.suppress(OSError):
        (settings.data_dir / SERVE_URL_FILE).write_text(url, encoding="utf-8")


def _recorded_url(settings: Settings) -> str | None:
    try:
        return (settings.data_dir / SERVE_URL_FILE).read_text(encoding="utf-8").strip()[:200]
    except OSError:
        return None


def ensure_tokens_file(settings: Settings) -> bool:
    """Write demo tokens into the data dir if no tokens file is configured or there; True if
    written now."""
    path = tokens_path(settings)
    if settings.tokens_file is not None or path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    text, _ = demo_tokens_document()
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return True


def _bootstrap_or_exit(settings: Settings, eventstore_port: int | None, runner: bool) -> App:
    """The App, its services traced when CASELEDGER_OTEL is on (the runner's lag too, when
    this process runs it); exit 1 with the reason when a setting points at nothing usable."""
    try:
        return bootstrap(
            settings,
            eventstore_port=eventstore_port,
            observed_as="caseledger",
            observe_projections=runner,
            child_runner=True,
        )
    except (BootstrapError, TokensFileError) as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    except EventStoreUnavailable as error:
        errors.print(f"[red]error:[/red] the event store does not answer: {error}")
        raise typer.Exit(code=EXIT_UNREACHABLE) from error


def _announce(app: App, url: str, written: bool, outbound: Outbound, runner: bool) -> None:
    where = "embedded, " + str(app.settings.data_dir / "eventstore") if app.embedded else "remote"
    readstore = "PostgreSQL" if app.settings.readstore_url else f"SQLite in {app.settings.data_dir}"
    console.print(f"[bold green]caseledger is serving[/bold green] at [bold]{url}[/bold]")
    console.print(f"  web console  {url}/console   (sign in with a user token)")
    console.print(f"  API docs     {url}/docs, {url}/redoc   (OpenAPI: {url}/openapi.json)")
    console.print(f"  health       {url}/healthz, {url}/readyz")
    console.print(f"  event store  {app.eventstore_url} ({where})")
    projecting = " (kept by a separate runner: --no-runner)"
    if runner:
        projecting = " (projected by a child process)" if app.runner_in_child else ""
    console.print(f"  read models  {readstore}{projecting}")
    _announce_outbound(outbound)
    path = tokens_path(app.settings)
    demo = demo_token_names(path) if path.exists() else {}
    if demo:
        note = "written now" if written else "from an earlier run"
        table = Table(title=f"demo tokens ({path}, {note}; tenant 'demo')", title_justify="left")
        table.add_column("who")
        table.add_column("bearer token")
        for name, secret in demo.items():
            table.add_row(name, secret)
        console.print(table)
        example = demo.get("analyst", "<token>")
        console.print(
            f"try:  curl -s -X POST {url}/v1/commands -H 'Authorization: Bearer {example}' "
            '-H \'content-type: application/json\' -d \'{"command_type": "open_case", '
            '"payload": {"case_id": "c1", "allegation_summary": "Unlicensed lending"}}\''
        )
        console.print(
            f"  or:  caseledger command --type open_case --token {example} "
            '--payload \'{"case_id": "c1", "allegation_summary": "Unlicensed lending"}\''
        )
        _announce_console(url, demo)
    else:
        console.print(f"  tokens       {path} ({len(app.tokens)} tokens)")
    console.print("Ctrl-C (or SIGTERM) stops it cleanly.")


def _announce_console(url: str, demo: dict[str, str]) -> None:
    """How to put an agent's proposal in the inbox, and whom to sign in as to decide it."""
    steps = agent_proposal_commands(how_to_run(sys.argv[0], sys.executable), url, demo)
    if not steps:
        return
    console.print("an agent's proposal to review (run these in another terminal):", markup=False)
    for step in steps:
        console.print(f"  {step}", markup=False, highlight=False)
    console.print(
        f"then open {url}/console, sign in with the reviewer token {demo['reviewer']} "
        "and approve or decline it",
        markup=False,
    )


def _announce_outbound(outbound: Outbound) -> None:
    settings = outbound.settings
    if outbound.relay is not None:
        where = f"{settings.nats_url}, stream {settings.nats_stream}"
        console.print(f"  outbox relay integration events to {where}")
    else:
        console.print(f"  outbox relay [yellow]not running: {outbound.relay_absent}[/yellow]")
    if outbound.worker is not None:
        console.print(
            f"  notices      sent over SMTP {settings.smtp_host}:{settings.smtp_port} "
            f"from {settings.smtp_sender}"
        )
    else:
        console.print(f"  notices      [yellow]not sent here: {outbound.worker_absent}[/yellow]")
