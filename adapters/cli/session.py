"""How a CLI command reaches the event store: `bootstrap_session` (the composition root's), with
its failures turned into exit codes, each with the reason — 3 (`EXIT_UNREACHABLE`) when there is
no store or it does not answer (also during the command); 1 when it cannot start or holds
streams in another naming format (`StoreRefused`, naming the fix)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import typer
from rich.console import Console

from caseledger.adapters.bootstrap import (
    BootstrapError,
    NoEventStore,
    Session,
    StoreFormatRefused,
    bootstrap_session,
)
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import EventStoreUnavailable

errors = Console(stderr=True, soft_wrap=True)
EXIT_UNREACHABLE: Final = 3
"""The exit code of every command when the event store (or the API) cannot be reached."""


class StoreRefused(typer.Exit):
    """Exit 1: the store holds streams in another naming format (the message named the fix)."""


@contextmanager
def store_session(settings: Settings) -> Iterator[Session]:
    """The configured event store for the command's duration (see `bootstrap_session`); exit 1
    with the reason when there is none or it fails."""
    try:
        with bootstrap_session(settings) as session:
            yield session
    except StoreFormatRefused as error:
        errors.print(f"[red]error:[/red] {error}")
        raise StoreRefused(code=1) from error
    except EventStoreUnavailable as error:
        errors.print(f"[red]error:[/red] the event store does not answer: {error}")
        raise typer.Exit(code=EXIT_UNREACHABLE) from error
    except NoEventStore as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=EXIT_UNREACHABLE) from error
    except BootstrapError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
