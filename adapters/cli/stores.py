"""The event store a CLI command reads (and, for the relay and the worker, writes through):
CASELEDGER_EVENTSTORE_URL if set; else the data dir's embedded store — through the running
`caseledger serve` that holds it, or opened for the command's duration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from caseledger.adapters.eventstore.embedded.database import DataDirError
from caseledger.adapters.eventstore.embedded.server import (
    EmbeddedServer,
    ServerStartError,
    running_endpoint,
)
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.settings import Settings

errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def reading_store(settings: Settings) -> Iterator[KurrentEventStore]:
    """The configured event store, closed (and an embedded one stopped) on exit. Exit code 1
    with the reason when there is none."""
    if settings.eventstore_url:
        store = KurrentEventStore.connect(settings.eventstore_url)
        try:
            yield store
        finally:
            store.close()
        return
    data_dir = settings.data_dir / "eventstore"
    if not data_dir.is_dir():
        errors.print(
            f"[red]error:[/red] no event store at {data_dir}; run `caseledger serve` first, or "
            "set CASELEDGER_DATA_DIR / CASELEDGER_EVENTSTORE_URL"
        )
        raise typer.Exit(code=1)
    server: EmbeddedServer | None = None
    url = running_endpoint(data_dir)  # a running `caseledger serve` holds it: read through it
    if url is None:
        try:
            server = EmbeddedServer.start(data_dir, "127.0.0.1", 0)
        except (DataDirError, ServerStartError) as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(code=1) from error
        url = server.url
    store = KurrentEventStore.connect(url)
    try:
        yield store
    finally:
        store.close()
        if server is not None:
            server.stop(grace=1.0)
