"""`caseledger outbox status|retry|publish`: the integration-event outbox as operators see it —
the relay's checkpoint and lag, messages by status with attempts and errors, parked messages —
and asking the relay to publish parked messages again."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from caseledger.adapters.cli.session import store_session
from caseledger.adapters.cli.signals import stop_on_signals
from caseledger.adapters.integration.admin import OutboxStatus, outbox_status, retry
from caseledger.adapters.integration.jetstream import BrokerUnavailable
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.outbound import connect_broker, outbox_relay
from caseledger.adapters.settings import Settings

app = typer.Typer(
    help="Integration events: outbox status, retry of parked messages, one publishing pass.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Checkpoint, lag, counts by status, parked messages and the latest attempts."""
    settings = Settings()
    outbox = SqliteOutbox.in_data_dir(settings.data_dir)
    try:
        with store_session(settings) as session:
            current = outbox_status(outbox, session.store.head_position())
    finally:
        outbox.close()
    if as_json:
        sys.stdout.write(current.model_dump_json(indent=2) + "\n")
        return
    _show(current)


@app.command("retry")
def retry_parked(
    message_id: Annotated[
        str | None, typer.Argument(help="One parked message; all parked ones if omitted.")
    ] = None,
) -> None:
    """Queue parked messages for the relay's next pass."""
    outbox = SqliteOutbox.in_data_dir(Settings().data_dir)
    try:
        queued = retry(outbox, message_id)
    finally:
        outbox.close()
    if message_id is not None and queued == 0:
        errors.print(f"[red]error:[/red] no parked message {message_id!r}")
        raise typer.Exit(code=1)
    console.print(f"{queued} message(s) queued for the relay's next pass")


@app.command("publish")
def publish() -> None:
    """One relay pass: publish everything committed up to now (and queued retries)."""
    settings = Settings()
    try:
        broker = connect_broker(settings)
    except BrokerUnavailable as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    outbox = SqliteOutbox.in_data_dir(settings.data_dir)
    try:
        with store_session(settings) as session:
            seen = outbox_relay(session.store, outbox, broker, settings).pump()
        console.print(f"looked at {seen} event(s)")
        _show(outbox_status(outbox))
    finally:
        broker.close()
        outbox.close()


def _show(current: OutboxStatus) -> None:
    console.print(
        f"[bold]relay {current.relay}[/bold]  checkpoint {current.checkpoint}  "
        f"head {current.head_position}  lag {current.lag}"
    )
    console.print("  ".join(f"{k}: {v}" for k, v in current.counts.items()))
    for title, rows in (("parked", current.parked), ("recent", current.recent)):
        table = Table("message id", "contract", "status", "attempts", "last error", title=title)
        for m in rows:
            table.add_row(m.message_id, m.contract or "", m.status, str(m.attempts), m.last_error)
        console.print(table)


@app.command("relay")
def relay() -> None:
    """Run the outbox relay until SIGTERM/Ctrl-C: publish committed events as they come, to
    CASELEDGER_NATS_URL (stream CASELEDGER_NATS_STREAM). One relay per data dir."""
    settings = Settings()
    try:
        broker = connect_broker(settings)
    except BrokerUnavailable as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    outbox = SqliteOutbox.in_data_dir(settings.data_dir)
    stop = stop_on_signals()
    try:
        with store_session(settings) as session:
            running = outbox_relay(session.store, outbox, broker, settings).start()
            console.print(
                f"relaying to {settings.nats_url} (stream {settings.nats_stream}); Ctrl-C stops"
            )
            try:
                stop.wait()
            finally:
                running.stop()
    finally:
        broker.close()
        outbox.close()
    console.print("stopped cleanly")
