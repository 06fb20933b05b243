"""`caseledger eventstore ...`: run the embedded KurrentDB-compatible event store."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from caseledger.adapters.eventstore.embedded.database import DataDirError
from caseledger.adapters.eventstore.embedded.security import TlsSettings
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer, ServerStartError

app = typer.Typer(help="The embedded, KurrentDB-wire-compatible event store.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


def start_or_exit(
    data_dir: Path | None, host: str, port: int, mem_db: bool, tls: TlsSettings | None = None
) -> EmbeddedServer:
    try:
        return EmbeddedServer.start(data_dir, host, port, mem_db=mem_db, tls=tls)
    except (ServerStartError, DataDirError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error


def run_until_signalled(server: EmbeddedServer) -> None:
    """Serve until SIGTERM or SIGINT, then stop after in-flight writes finish."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    console.print("stopping: finishing in-flight writes ...")
    server.stop(grace=5.0)
    console.print("stopped cleanly")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (KurrentDB's default is 2113).")] = 2113,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Directory for the event log.")
    ] = Path("data/eventstore"),
    mem_db: Annotated[
        bool, typer.Option("--mem-db", help="Keep events in memory only (tests).")
    ] = False,
    tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate: serve TLS (required off loopback).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for --tls-cert.")] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="CASELEDGER_EVENTSTORE_ADMIN_PASSWORD",
            help="Password clients log in with as 'admin' (with TLS).",
        ),
    ] = None,
) -> None:
    """Run the embedded event store in the foreground until SIGTERM/SIGINT.

    It binds 127.0.0.1 by default. Any other address needs TLS and the admin password; clients
    then connect with kurrentdb://admin:PASSWORD@HOST:PORT?tls=true.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    tls = None
    if tls_cert or tls_key:
        if not (tls_cert and tls_key):
            console.print("[red]error:[/red] --tls-cert and --tls-key go together")
            raise typer.Exit(code=2)
        tls = TlsSettings(tls_cert, tls_key, admin_password or "")
    server = start_or_exit(None if mem_db else data_dir, host, port, mem_db, tls)
    where = "in memory" if mem_db else str(data_dir)
    console.print(f"event store ({where}) at [bold]{server.url}[/bold]")
    run_until_signalled(server)
