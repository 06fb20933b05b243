"""`caseledger audit verify` and `caseledger audit heads`: the store's hash chains recomputed,
and their heads pinned to a file kept elsewhere (see `adapters.audit.chains`). Only reads the
store.

Exit codes of `verify`: 0 every chain intact (or unchained: written before chains); 1 a chain
broken, an event unreadable, a pinned head not reached, or no such stream; 2 bad arguments; 3
the event store cannot be reached."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from caseledger.adapters.audit.chains import (
    ChainReport,
    HeadsFileError,
    is_chained,
    read_heads,
)
from caseledger.adapters.audit.chains import (
    verify as verify_chains,
)
from caseledger.adapters.cli.session import store_session
from caseledger.adapters.settings import Settings
from caseledger.domain.application.chain_walk import Head, Status
from caseledger.domain.application.chains import CHAINED
from caseledger.domain.shared.errors import MAX_PIECE, clip
from caseledger.domain.shared.ids import is_tenant_id

EXIT_BROKEN: Final = 1
EXIT_USAGE: Final = 2
errors = Console(stderr=True, soft_wrap=True)

Tenant = Annotated[str | None, typer.Option("--tenant", help="Only this tenant's streams.")]


def verify(
    tenant: Tenant = None,
    stream: Annotated[
        str | None, typer.Option("--stream", help="Only this stream (e.g. case-t1_c1).")
    ] = None,
    heads: Annotated[
        Path | None,
        typer.Option("--heads", help="Also check the heads pinned in this file (audit heads)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Recompute every chained stream's hash chain: a summary (streams, events, intact,
    broken, unchained, unreadable) and each broken stream's first break. With --heads, also
    every stream that no longer reaches the head pinned for it (events deleted from the end, a
    chain recomputed whole). Exit 0 intact, 1 broken, 2 bad arguments, 3 store unreachable."""
    _check_scope(tenant, stream)
    pinned = _pinned(heads)
    with store_session(Settings()) as session:
        report = verify_chains(session.store, tenant=tenant, stream=stream, pinned=pinned)
    if stream is not None and not report.walks and not report.unreached:
        errors.print(f"[red]error:[/red] no stream {escape(stream)}")
        raise typer.Exit(code=EXIT_BROKEN)
    if as_json:
        sys.stdout.write(orjson.dumps(report.document(), option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
    else:
        _show(report)
    if not report.intact:
        raise typer.Exit(code=EXIT_BROKEN)


def heads(
    out: Annotated[Path, typer.Option("--out", help="The file to write (JSON).")],
    tenant: Tenant = None,
) -> None:
    """Pin every chained stream's head (last revision, event id, link) in a JSON file with the
    time and the store's position; keep it where whoever can write the store cannot, and check
    it later with `audit verify --heads FILE`."""
    _check_scope(tenant, None)
    with store_session(Settings()) as session:
        report = verify_chains(session.store, tenant=tenant)
    document = report.heads(datetime.now(UTC), tenant)
    try:
        _write(out, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as error:
        errors.print(f"[red]error:[/red] cannot write {escape(str(out))}: {error.strerror}")
        raise typer.Exit(code=EXIT_USAGE) from error
    print(f"pinned {len(document['streams'])} stream heads at position {report.position} to {out}")
    bad = [w.stream for w in report.walks.values() if w.status in _BAD]
    if bad:
        errors.print(
            f"[yellow]warning:[/yellow] {len(bad)} stream(s) pinned with a broken or unreadable "
            f"chain (audit verify shows where): {escape(', '.join(bad[:10]))}"
        )


_BAD: Final = (Status.BROKEN, Status.UNREADABLE)


def _check_scope(tenant: str | None, stream: str | None) -> None:
    if tenant is not None and not is_tenant_id(tenant):
        errors.print("[red]error:[/red] --tenant: not a valid tenant id")
        raise typer.Exit(code=EXIT_USAGE)
    if stream is not None and not is_chained(stream):
        errors.print(
            f"[red]error:[/red] --stream {escape(clip(stream, MAX_PIECE))!s}: not a chained "
            f"stream (chained: {', '.join(f'{c}-<tenant>...' for c in CHAINED)})"
        )
        raise typer.Exit(code=EXIT_USAGE)


def _pinned(path: Path | None) -> dict[str, Head] | None:
    if path is None:
        return None
    try:
        return read_heads(path)
    except HeadsFileError as error:
        errors.print(f"[red]error:[/red] --heads: {escape(str(error))}")
        raise typer.Exit(code=EXIT_USAGE) from error


def _write(path: Path, content: bytes) -> None:
    """Written whole or not at all (a temporary file renamed over `path`)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def _show(report: ChainReport) -> None:
    s = report.summary()
    print(
        f"{'intact' if report.intact else 'NOT INTACT'}: {s['streams']} streams, {s['events']} "
        f"events up to position {report.position}: {s['intact']} intact, {s['broken']} broken, "
        f"{s['unchained']} unchained, {s['unreadable']} unreadable"
        + (f", {s['heads_not_reached']} pinned heads not reached" if s["heads_not_reached"] else "")
    )
    for walk in report.walks.values():
        broke = walk.first_break
        if broke is not None:
            print(
                f"{walk.status.value} {walk.stream} at revision {broke.revision}: {broke.differs}"
            )
        elif walk.status is Status.UNCHAINED:
            print(f"unchained {walk.stream} up to revision {walk.unchained_up_to}")
    for stream, reason in report.unreached.items():
        print(f"head not reached {stream}: {reason}")
