"""`caseledger projections run`: the projection runner as its own process — keeps the read
models up to date from the event store until SIGTERM/SIGINT, exporting lag and progress when
CASELEDGER_OTEL is on. Run exactly one per read store; API and MCP processes then run with
`--no-runner`."""

from __future__ import annotations

import typer
from rich.console import Console

from caseledger.adapters.bootstrap import BootstrapError, bootstrap
from caseledger.adapters.cli.session import EXIT_UNREACHABLE
from caseledger.adapters.cli.signals import stop_on_signals
from caseledger.adapters.runtime import tune_gc
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import EventStoreUnavailable

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def run() -> None:
    """Keep the read models up to date until SIGTERM/Ctrl-C (one runner per read store)."""
    settings = Settings()
    try:
        app = bootstrap(settings, observed_as="caseledger-projections")
    except BootstrapError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    except EventStoreUnavailable as error:
        errors.print(f"[red]error:[/red] the event store does not answer: {error}")
        raise typer.Exit(code=EXIT_UNREACHABLE) from error
    stop = stop_on_signals()
    tune_gc()  # start-up is done: the runner runs from here on
    try:
        app.start()
        views = "PostgreSQL" if settings.readstore_url else f"SQLite in {settings.data_dir}"
        console.print(
            f"projection runner: {app.eventstore_url} -> {views}; Ctrl-C (or SIGTERM) stops"
        )
        stop.wait()
        console.print("stopping: the batch in hand commits first")
    finally:
        app.close()  # the telemetry first
    console.print("stopped cleanly")
