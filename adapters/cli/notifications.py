"""`caseledger notifications run`: the notification worker — approved notices' send requests
from JetStream, delivered over SMTP, recorded as sent through the command service."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.console import Console

from caseledger.adapters.cli.replay import _reading_store
from caseledger.adapters.integration.contracts import SEND_REQUESTED, subject_for
from caseledger.adapters.integration.jetstream import (
    DEFAULT_PREFIX,
    DEFAULT_STREAM,
    BrokerUnavailable,
    JetStream,
)
from caseledger.adapters.notifications.ledger import DeliveryLedger
from caseledger.adapters.notifications.smtp import SmtpMailer
from caseledger.adapters.notifications.worker import NotificationWorker, WorkerSettings
from caseledger.adapters.settings import Settings
from caseledger.domain.application.service import CommandService

app = typer.Typer(help="The notification worker (SMTP).", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@app.command("run")
def run(
    smtp_host: Annotated[str, typer.Option(help="SMTP server.")] = "127.0.0.1",
    smtp_port: Annotated[int, typer.Option(help="SMTP port.")] = 25,
    sender: Annotated[str, typer.Option(help="From address.")] = "notices@caseledger.invalid",
) -> None:
    """Run until Ctrl-C."""
    settings = Settings()
    ledger = DeliveryLedger.in_data_dir(settings.data_dir)
    try:
        broker = JetStream.connect(settings.nats_url)
    except BrokerUnavailable as error:
        ledger.close()
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    try:
        broker.ensure_stream()
        consumer = broker.pull(
            subject_for(DEFAULT_PREFIX, SEND_REQUESTED.name), "notification-worker", DEFAULT_STREAM
        )
        with _reading_store(settings) as store:
            worker = NotificationWorker(
                store,
                CommandService(store),
                consumer,
                SmtpMailer(smtp_host, smtp_port),
                ledger,
                WorkerSettings(sender=sender),
            ).start()
            console.print(f"delivering over {smtp_host}:{smtp_port}; Ctrl-C stops")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
            finally:
                worker.stop()
    finally:
        broker.close()
        ledger.close()
