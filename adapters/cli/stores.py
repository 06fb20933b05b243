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
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import EventStoreUnavailable
from caseledger.domain.application.storeformat import StoreFormatError, check_store_format

errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def reading_store(settings: Settings) -> Iterator[KurrentEventStore | InProcessEventStore]:
    """The configured event store, closed (and an embedded one stopped) on exit. Exit code 1
    with the reason when there is none, or when it stops answering during the command. An
    embedded store this command opened itself is read in process (its storage, no gRPC)
    unless CASELEDGER_EMBEDDED_PATH=grpc."""
    server: EmbeddedServer | None = None
    url = settings.eventstore_url or None
    if url is None:
        server, url = _data_dir_store(settings)
    try:
        store: KurrentEventStore | InProcessEventStore
        if server is not None and settings.embedded_path == "inprocess":
            store = InProcessEventStore(server.store, settings.eventstore_timeout)
        else:
            store = KurrentEventStore.connect(url, settings.eventstore_timeout)
        try:
            _check_store_format(store)
            yield store
        finally:
            store.close()
    except EventStoreUnavailable as error:
        errors.print(f"[red]error:[/red] the event store does not answer: {error}")
        raise typer.Exit(code=1) from error
    finally:
        if server is not None:
            server.stop(grace=1.0)


class StoreRefused(typer.Exit):
    """Exit 1: the store holds streams in another naming format (the message named the fix)."""


def _check_store_format(store: KurrentEventStore | InProcessEventStore) -> None:
    """Exit 1 naming the fix when the store holds streams in another naming format; a store
    this command only reads is never marked."""
    try:
        check_store_format(store, mark=False)
    except StoreFormatError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise StoreRefused(code=1) from error


def _data_dir_store(settings: Settings) -> tuple[EmbeddedServer | None, str]:
    """The data dir's embedded store: the running `caseledger serve`'s that holds it (no server
    of ours), else one started for the command."""
    data_dir = settings.data_dir / "eventstore"
    if not data_dir.is_dir():
        errors.print(
            f"[red]error:[/red] no event store at {data_dir}; run `caseledger serve` first, or "
            "set CASELEDGER_DATA_DIR / CASELEDGER_EVENTSTORE_URL"
        )
        raise typer.Exit(code=1)
    url = running_endpoint(data_dir)
    if url is not None:
        return None, url
    try:
        server = EmbeddedServer.start(data_dir, "127.0.0.1", 0)
    except (DataDirError, ServerStartError) as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    return server, server.url
