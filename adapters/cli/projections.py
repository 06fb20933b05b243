"""`caseledger projections ...`: where each read model is (and whether the runner is stalled),
retries of parked events, and blue/green rebuilds."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any, Final

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from caseledger.adapters.bootstrap import EventStoreConnection, ReadStore, lease_store, read_store
from caseledger.adapters.cli.projections_status import status_document
from caseledger.adapters.cli.session import StoreRefused, store_session
from caseledger.adapters.lease import RUNNER_LEASE
from caseledger.adapters.readstore.runner_report import RunnerReport, read_report
from caseledger.adapters.runtime import tune_gc
from caseledger.adapters.settings import Settings
from caseledger.projections.catalogue import all_projections, projection_named
from caseledger.projections.events import CATEGORIES
from caseledger.projections.parking import retry_parked
from caseledger.projections.ports import ReadStoreUnavailable
from caseledger.projections.projection import Projection
from caseledger.projections.rebuild import NotSwitched, RebuildProgress, rebuild
from caseledger.projections.runner import STALLED

app = typer.Typer(
    help="Read models: status, retries of parked events, and rebuilds beside the serving version."
)
console = Console(soft_wrap=True)


@app.command()
def status(
    parked: Annotated[bool, typer.Option(help="List the parked events too.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object on stdout: `views` (name, version, generation, state, "
            "checkpoint, head, lag, parked, stalled_reason), `head`, `holder`, `standbys`.",
        ),
    ] = False,
) -> None:
    """The runner (running, or stalled and why) and each projection version: its state
    (serving, building, stalled), checkpoint, lag behind `$all`, parked events (those waiting
    behind an earlier parked event of their stream are marked so). Exit code 1 while the read
    store does not answer."""
    settings = Settings()
    report = read_report(settings.data_dir)
    try:
        store = read_store(settings)
        states = store.states()
    except ReadStoreUnavailable as error:
        if as_json:
            typer.echo(json.dumps({"error": "read_store_unavailable", "detail": str(error)}))
        else:
            _print_runner(report)
            console.print(f"[red]read store unavailable:[/red] {error}")
        raise typer.Exit(code=1) from error
    document = status_document(states, _head(settings), report, _runner_lease(store))
    if as_json:
        typer.echo(json.dumps(document))
        return
    _print_runner(report)
    _print_views(document)
    if parked:
        for state in states:
            for event in store.parked(state.projection_id):
                console.print(
                    f"{event.projection_id}: {event.stream}@{event.revision} "
                    f"({event.event_type}, position {event.position}): {event.reason}",
                    markup=False,
                )


def _runner_lease(store: ReadStore) -> tuple[str | None, list[str]]:
    try:
        return lease_store(store).lease(RUNNER_LEASE, time.time())
    except Exception:  # a store from before leases, or one that stopped answering
        return None, []


def _print_views(document: dict[str, Any]) -> None:
    table = Table("version", "serving", "checkpoint", "lag", "parked", "gen", "state")
    table.add_column("view", no_wrap=True)  # first: the view names are never cut
    table.columns.insert(0, table.columns.pop())
    for view in document["views"]:
        checkpoint, lag = view["checkpoint"], view["lag"]
        table.add_row(
            view["name"],
            str(view["version"]),
            "yes" if view["serving"] else "",
            "-" if checkpoint is None else str(checkpoint),
            "?" if lag is None else str(lag),
            str(view["parked"]),
            str(view["generation"]),
            view["state"],
        )
    console.print(table)
    head = document["head"]
    console.print(
        f"head of the views' categories in $all: {'unreachable' if head is None else head}"
    )
    holder = document["holder"]
    standbys = document["standbys"]
    console.print(
        "runner holder: "
        + ("none" if holder is None else f"pid {holder['pid']} on {holder['host']}")
        + f"; standbys: {len(standbys)}"
        + "".join(f"\n  standby {standby}" for standby in standbys)
    )


def _print_runner(report: RunnerReport | None) -> None:
    if report is None:
        console.print("runner: no report in this data dir (none has run here)")
        return
    if not report.alive:
        console.print(f"runner: not running (pid {report.pid} was {report.state} when it ended)")
        return
    if report.state != STALLED:
        console.print(f"runner: {report.state} (pid {report.pid})")
        return
    since = time.strftime("%H:%M:%S", time.localtime(report.since or report.updated_at))
    console.print(
        f"runner: [bold red]stalled[/bold red] since {since} (pid {report.pid}): the read "
        "store fails; nothing is parked for it, the runner retries and resumes where it stopped"
    )
    console.print(f"  reason: {report.reason}", markup=False)


@app.command("retry")
def retry_command(
    name: Annotated[
        str | None, typer.Argument(help="The view, e.g. case_summary (default: every view).")
    ] = None,
    stream: Annotated[
        str | None, typer.Option(help="Only this stream's parked events, e.g. case-c1.")
    ] = None,
) -> None:
    """Re-apply parked events: each stream's in revision order, from the revision after the
    last one the view applied, over the committed rows, in one transaction per stream. The
    first event that fails again stays parked (the ones after it wait behind it); a running
    runner notices and rebuilds its batch. Exit code 1 if any event stays parked."""
    settings = Settings()
    try:
        chosen = [projection_named(name)] if name else all_projections()
    except KeyError as error:
        console.print(f"[red]error:[/red] {error.args[0]}")
        raise typer.Exit(code=2) from error
    store = read_store(settings)
    try:
        remaining = _retry(settings, store, chosen, stream)
    except ReadStoreUnavailable as error:
        console.print(f"[red]read store unavailable:[/red] {error}")
        raise typer.Exit(code=1) from error
    finally:
        store.close()
    if remaining:
        raise typer.Exit(code=1)


def _retry(
    settings: Settings, store: ReadStore, chosen: list[Projection], stream: str | None
) -> int:
    """Retry `chosen`'s parked events; the number still parked."""
    versions = {s.projection_id for s in store.states()}
    remaining = 0
    with store_session(settings) as session:
        events = session.store
        for projection in chosen:
            if projection.id not in versions:
                continue
            store.prepare(projection)
            report = retry_parked(events, store, projection, stream)
            console.print(
                f"{projection.id}: {report.resolved} applied, {report.still_parked} still parked"
            )
            for event in store.parked(projection.id):
                if stream is None or event.stream == stream:
                    console.print(
                        f"  {event.stream}@{event.revision} ({event.event_type}): {event.reason}",
                        markup=False,
                    )
            remaining += report.still_parked
    return remaining


REBUILT: Final = 0
NOT_SWITCHED: Final = 1
BAD_ARGUMENTS: Final = 2
UNREACHABLE: Final = 3


@app.command("rebuild")
def rebuild_command(
    name: Annotated[
        str | None, typer.Argument(help="The view, e.g. case_summary (or --all).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every view, one after the other.")] = False,
) -> None:
    """Build NAME's current version from the start of `$all` beside the generation serving
    (the same version: a new build generation; another version: beside it, blue/green), then
    switch to it atomically once caught up. `--all` rebuilds every view one by one: each
    switches as soon as it has caught up, the others keep serving meanwhile. Nothing but the
    new generation's tables is written; a running `serve` keeps serving and its runner
    follows each switch. Interrupted (Ctrl-C, kill), the serving generation keeps serving and
    the rebuild can be started again. Exit code 0 when every view switched, 1 when any did
    not (named, with why), 2 on bad arguments, 3 when the event store or the read store
    does not answer. Reads CASELEDGER_EVENTSTORE_URL, else the data dir's store (through a
    running `serve`, or opened for the rebuild)."""
    settings = Settings()
    chosen = _chosen(name, every)
    try:
        store = read_store(settings)
        store.states()
    except ReadStoreUnavailable as error:
        console.print(f"[red]error:[/red] the read store does not answer: {error}")
        raise typer.Exit(code=UNREACHABLE) from error
    failed: list[str] = []
    try:
        with _events_or_unreachable(settings) as events:
            tune_gc()  # start-up is done: the rebuild runs from here on
            for projection in chosen:
                if not _rebuild_one(events, store, projection):
                    failed.append(projection.name)
    except ReadStoreUnavailable as error:
        console.print(f"[red]error:[/red] the read store does not answer: {error}")
        raise typer.Exit(code=UNREACHABLE) from error
    finally:
        store.close()
    if failed:
        console.print(f"[red]not switched:[/red] {', '.join(failed)} (the serving ones serve)")
        raise typer.Exit(code=NOT_SWITCHED)


def _chosen(name: str | None, every: bool) -> list[Projection]:
    if (name is None) == (not every):
        console.print("[red]error:[/red] name one view, or --all (not both)")
        raise typer.Exit(code=BAD_ARGUMENTS)
    if every:
        return all_projections()
    try:
        return [projection_named(str(name))]
    except KeyError as error:
        console.print(f"[red]error:[/red] {error.args[0]}")
        raise typer.Exit(code=BAD_ARGUMENTS) from error


@contextlib.contextmanager
def _events_or_unreachable(settings: Settings) -> Iterator[EventStoreConnection]:
    """The event store, or exit 3 when it does not answer (or there is none)."""
    try:
        with store_session(settings) as session:
            yield session.store
    except StoreRefused:
        raise
    except typer.Exit as error:
        if error.exit_code == 1:  # store_session said why: none, or it does not answer
            raise typer.Exit(code=UNREACHABLE) from error
        raise


def _rebuild_one(events: EventStoreConnection, store: ReadStore, projection: Projection) -> bool:
    """Rebuild one view; False (and why, said) if it did not switch."""
    try:
        built, count = _rebuild_showing_progress(events, store, projection)
    except NotSwitched as error:
        console.print(f"[red]{projection.name} not switched:[/red] {error}")
        return False
    except ReadStoreUnavailable:
        raise
    except Exception as error:
        console.print(f"[red]{projection.name} not switched:[/red] {type(error).__name__}: {error}")
        return False
    console.print(f"{built.id} built from {count} events and now serving")
    return True


def _rebuild_showing_progress(
    events: EventStoreConnection, store: ReadStore, projection: Projection
) -> tuple[Projection, int]:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[events]} events, {task.fields[rate]} events/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(projection.name, total=None, events=0, rate="-")

        def show(progress: RebuildProgress) -> None:
            span = max(1, progress.target - progress.start)
            done = (progress.position or progress.start) - progress.start
            rate = progress.events / max(1e-3, time.monotonic() - started)
            bar.update(
                task, total=span, completed=done, events=progress.events, rate=f"{rate:,.0f}"
            )

        def switching() -> None:
            bar.stop()
            console.print(f"caught up; indexing {projection.name} and switching to it ...")

        return rebuild(events, store, projection, on_progress=show, on_switch=switching)


def _head(settings: Settings) -> int | None:
    """The newest position of the categories the views follow (what their lag is measured
    against), or None when no event store answers (status still shows the read side)."""
    try:
        with store_session(settings) as session:
            return session.store.head_position(CATEGORIES)
    except StoreRefused:
        raise
    except typer.Exit:
        return None
