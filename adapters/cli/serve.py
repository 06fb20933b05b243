"""`caseledger serve`: run caseledger with zero configuration.

At this stage it starts the embedded event store (or uses CASELEDGER_EVENTSTORE_URL), proves
the round trip through the official KurrentDB client, and serves until SIGTERM/SIGINT. The
projection runner and the HTTP API join it as their issues land.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import orjson
import typer
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from rich.console import Console

from caseledger.adapters.cli.eventstore import run_until_signalled, start_or_exit
from caseledger.adapters.settings import Settings

console = Console(soft_wrap=True)
HEALTH_STREAM = "caseledger-health"


def check_round_trip(url: str) -> None:
    """Append one `service.started` event and read it back through the client."""
    client = KurrentDBClient(uri=url)
    try:
        data = orjson.dumps({"started_at": datetime.datetime.now(datetime.UTC).isoformat()})
        position = client.append_to_stream(
            HEALTH_STREAM,
            current_version=StreamState.ANY,
            events=NewEvent(type="service.started", data=data),
        )
        last = client.get_stream(HEALTH_STREAM, backwards=True, limit=1)[0]
        console.print(
            f"round trip ok: appended [bold]{last.type}[/bold] to {HEALTH_STREAM} at revision "
            f"{last.stream_position}, $all position {position}"
        )
    finally:
        client.close()


def serve(
    port: Annotated[
        int | None, typer.Option(help="Embedded event store port (default from settings).")
    ] = None,
) -> None:
    """Start caseledger: the embedded event store unless CASELEDGER_EVENTSTORE_URL is set."""
    settings = Settings()
    if settings.eventstore_url:
        console.print(f"using the event store at [bold]{settings.eventstore_url}[/bold]")
        check_round_trip(settings.eventstore_url)
        return
    data_dir = settings.data_dir / "eventstore"
    server = start_or_exit(
        data_dir, settings.eventstore_host, port or settings.eventstore_port, mem_db=False
    )
    console.print(f"embedded event store ({data_dir}) at [bold]{server.url}[/bold]")
    check_round_trip(server.url)
    console.print("serving; Ctrl-C to stop")
    run_until_signalled(server)
