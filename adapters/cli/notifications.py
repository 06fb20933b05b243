"""`caseledger notifications run`: the notification worker — approved notices' send requests
from JetStream, delivered over SMTP, recorded as sent through the command service."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from caseledger.adapters.cli.session import store_session
from caseledger.adapters.cli.signals import stop_on_signals
from caseledger.adapters.integration.jetstream import BrokerUnavailable
from caseledger.adapters.notifications.ledger import DeliveryLedger
from caseledger.adapters.outbound import connect_broker, notification_worker
from caseledger.adapters.settings import Settings

app = typer.Typer(help="The notification worker (SMTP).", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@app.command("run")
def run(
    smtp_host: Annotated[
        str | None, typer.Option(help="SMTP server (default CASELEDGER_SMTP_HOST).")
    ] = None,
    smtp_port: Annotated[
        int | None, typer.Option(help="SMTP port (default CASELEDGER_SMTP_PORT, 25).")
    ] = None,
    sender: Annotated[
        str | None,
        typer.Option(
            help="From address (default CASELEDGER_SMTP_SENDER, notices@caseledger.invalid)."
        ),
    ] = None,
) -> None:
    """Deliver approved notices until SIGTERM/Ctrl-C. One worker per data dir (its ledger and
    inbox live there)."""
    overrides = {"smtp_host": smtp_host, "smtp_port": smtp_port, "smtp_sender": sender}
    settings = Settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if settings.smtp_host is None:
        errors.print("[red]error:[/red] no SMTP server: set CASELEDGER_SMTP_HOST or --smtp-host")
        raise typer.Exit(code=2)
    try:
        broker = connect_broker(settings)
    except BrokerUnavailable as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    ledger = DeliveryLedger.in_data_dir(settings.data_dir)
    stop = stop_on_signals()
    try:
        with store_session(settings) as session:
            worker = notification_worker(session.store, session.commands, ledger, broker, settings)
            worker.start()
            console.print(
                f"delivering over {settings.smtp_host}:{settings.smtp_port} "
                f"from {settings.smtp_sender}; Ctrl-C stops"
            )
            try:
                stop.wait()
            finally:
                worker.stop()
    finally:
        broker.close()
        ledger.close()
    console.print("stopped cleanly")
