"""`caseledger migrate --from OLD_DATA_DIR --to NEW_DATA_DIR`: copy an embedded store written
before tenant-scoped stream names into a new data dir under the new names, then build the views
there. Never into the same store (`$all` would hold everything twice): the new data dir must be
new or empty.

The new store is marked `migrating` before the first event is copied and marked in this code's
format only once the last one is, so a copy that fails half-way is refused by every command
(delete it and migrate again). Ids, metadata and `$all` order are kept, stream revisions too;
snapshots (a cache) are not copied (see `domain.application.migration`). The data dir's tokens
file comes along; the outbox and notification ledgers do not (their checkpoints are positions
in the old store): a relay in the new data dir publishes again from the start, with the same
message ids (event ids), which consumers' inboxes recognise.

Exit codes: 0 copied and built; 1 failed (the new data dir is incomplete, and says so); 2 bad
arguments."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer
from rich.console import Console

from caseledger.adapters.bootstrap import (
    TOKENS_FILE,
    BootstrapError,
    EventStoreConnection,
    bootstrap,
    embedded_store,
    embedded_store_served,
)
from caseledger.adapters.eventstore.up_to_head import events_up_to
from caseledger.adapters.settings import Settings
from caseledger.domain.application.migration import MigrationError, Renamed, Renaming
from caseledger.domain.application.ports import EventStore, RecordedEvent
from caseledger.domain.application.storeformat import (
    mark_migrating,
    mark_store_format,
    read_store_format,
)

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

VIEWS_TIMEOUT: Final = 600.0
"""Seconds the views may take to catch up with the copied events."""
READ_TIMEOUT: Final = 600.0
"""Seconds without progress after which reading the old store is given up."""

From = Annotated[
    Path, typer.Option("--from", help="The data dir of the store to copy (left unchanged).")
]
To = Annotated[Path, typer.Option("--to", help="A new (or empty) data dir to copy into.")]


def migrate(source: From, target: To) -> None:
    """Copy an embedded store's events into tenant-scoped stream names in a new data dir, then
    build the views there. Prints what it copied."""
    _checked_arguments(source, target)
    with contextlib.ExitStack() as stores:
        old = _open(stores, source, grace=1.0)
        _refuse_migrated(old)
        target.mkdir(parents=True, exist_ok=True)
        new = _open(stores, target, grace=5.0)
        try:
            renaming = _copy(old, new)
        except Exception as error:
            _failed(target, error)
    if (source / TOKENS_FILE).is_file():
        shutil.copy2(source / TOKENS_FILE, target / TOKENS_FILE)
    position = _build_views(target)
    _report(renaming, target, position)


def _checked_arguments(source: Path, target: Path) -> None:
    """Exit 2 unless `source` holds an embedded store and `target` is another, empty place."""
    old_dir = source / "eventstore"
    if not old_dir.is_dir():
        _bad(f"no embedded event store at {old_dir}")
    one, other = source.resolve(), target.resolve()
    if one == other or one in other.parents or other in one.parents:
        _bad("--to must be a new data dir, apart from --from: never the same store")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        _bad(f"{target} is not empty; migrate needs a new data dir")
    if embedded_store_served(source) is not None:
        _fail(
            f"a running caseledger holds {old_dir}: stop it first (its later writes would be lost)"
        )


def _open(stores: contextlib.ExitStack, data_dir: Path, grace: float) -> EventStoreConnection:
    """`data_dir`'s embedded store until `stores` closes; exit 1 when it cannot start."""
    try:
        return stores.enter_context(embedded_store(data_dir, grace=grace))
    except BootstrapError as error:
        _fail(str(error))


def _refuse_migrated(old: EventStoreConnection) -> None:
    found = read_store_format(old)
    if found is not None:
        _bad(f"the store is already in format {found} (tenant-scoped names): nothing to migrate")


def _copy(reader: EventStoreConnection, writer: EventStoreConnection) -> Renaming:
    """Every event of `reader`, in `$all` order, renamed into `writer`; consecutive events of
    one stream in one append, at the revision they had."""
    renaming = Renaming()
    mark_migrating(writer)
    run: list[Renamed] = []
    for recorded in _everything(reader):
        renamed = renaming.rename(recorded)
        if renamed is None:
            continue
        if run and run[-1].stream != renamed.stream:
            _append(writer, run)
            run = []
        run.append(renamed)
    if run:
        _append(writer, run)
    mark_store_format(writer, expected=0)
    return renaming


def _append(store: EventStore, run: list[Renamed]) -> None:
    store.append(run[0].stream, [r.event for r in run], run[0].revision - 1)


def _everything(store: EventStoreConnection) -> Iterator[RecordedEvent]:
    """`$all` from its start up to its head as of now."""
    head = store.head_position()
    last = 0
    for recorded in events_up_to(store, head, within=READ_TIMEOUT):
        last = recorded.commit_position
        yield recorded
    if last < head:
        raise MigrationError("reading the old store stopped before its head")


def _build_views(target: Path) -> int:
    settings = Settings(data_dir=target, eventstore_url=None, readstore_url=None, tokens_file=None)
    try:
        with bootstrap(settings, eventstore_port=0) as app:
            if not app.runner.run_until_caught_up(timeout=VIEWS_TIMEOUT):
                raise MigrationError(f"the views did not catch up within {VIEWS_TIMEOUT:.0f} s")
            positions = app.runner.status().positions.values()
            return max((p for p in positions if p is not None), default=0)
    except (BootstrapError, MigrationError) as error:
        errors.print(
            f"[red]error:[/red] the events were copied but the views were not built: {error}; "
            f"`caseledger projections run` with CASELEDGER_DATA_DIR={target} builds them"
        )
        raise typer.Exit(code=1) from error


def _report(renaming: Renaming, target: Path, position: int) -> None:
    total = sum(renaming.copied.values())
    console.print(f"copied {total} events into {target / 'eventstore'}:")
    for category, count in sorted(renaming.copied.items()):
        names = len(renaming.streams_copied.get(category, ()))
        console.print(f"  {category:<12} {count:>8} events in {names} streams")
    for why, count in sorted(renaming.skipped.items()):
        console.print(f"  not copied: {count} {why} events")
    console.print(f"views built in {target} up to position {position}")
    console.print(f"serve it:  CASELEDGER_DATA_DIR={target} caseledger serve")


def _failed(target: Path, error: Exception) -> NoReturn:
    errors.print(
        f"[red]error:[/red] migration failed: {str(error)[:500]}\n"
        f"{target} is incomplete (every command refuses it): delete it and migrate again"
    )
    raise typer.Exit(code=1) from error


def _bad(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=1)
