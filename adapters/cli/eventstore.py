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
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer, ServerStartError

app = typer.Typer(help="The embedded, KurrentDB-wire-compatible event store.", no_args_is_help=True)
console = Console(stderr=True)


def start_or_exit(data_dir: Path | None, host: str, port: int, mem_db: bool) -> EmbeddedServer:
    try:
        return EmbeddedServer.start(data_dir, host, port, mem_db=mem_db)
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
) -> None:
    """Run the embedded event store in the foreground until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = start_or_exit(None if mem_db else data_dir, host, port, mem_db)
    where = "in memory" if mem_db else str(data_dir)
    console.print(f"event store ({where}) at [bold]{server.url}[/bold]")
    run_until_signalled(server)
