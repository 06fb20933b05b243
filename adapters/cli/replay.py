"""`caseledger replay case|noticedraft <id> --tenant T`: an aggregate's state at a revision and
its history with metadata, for audits. Ids are a tenant's (`case-<tenant>_<id>`). Replay only
reads; it never writes an event.

Where it reads: CASELEDGER_EVENTSTORE_URL if set; else the data dir's embedded store, opened
for the replay -- or, when a running `caseledger serve` holds it, that server
(CASELEDGER_EVENTSTORE_HOST/_PORT)."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.pretty import Pretty

from caseledger.adapters.cli.session import store_session
from caseledger.adapters.settings import Settings
from caseledger.domain.application.replay import Replay, replay, replay_document
from caseledger.domain.shared.errors import EventDecodingError
from caseledger.domain.shared.streams import InvalidId, check_aggregate_id, check_tenant_id

app = typer.Typer(
    help="Replay a stream for audits: state at a revision, history with metadata. Never writes.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

AsOf = Annotated[
    int | None,
    typer.Option("--as-of-revision", min=0, help="Fold events up to this revision (0-based)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print state and history as JSON.")]
Payloads = Annotated[
    bool, typer.Option("--payloads", help="Show each event's data (what was proposed, decided).")
]
Tenant = Annotated[str, typer.Option("--tenant", help="The tenant whose id it is.")]


@app.command("case")
def case(
    case_id: Annotated[str, typer.Argument(help="The case id (stream case-<tenant>_<id>).")],
    tenant: Tenant,
    as_of_revision: AsOf = None,
    as_json: AsJson = False,
    payloads: Payloads = False,
) -> None:
    """A case's state at a revision and its history (who, which run, correlation, causation)."""
    _replay("case", tenant, case_id, as_of_revision, as_json, payloads)


@app.command("noticedraft")
def noticedraft(
    draft_id: Annotated[
        str, typer.Argument(help="The draft id (stream noticedraft-<tenant>_<id>).")
    ],
    tenant: Tenant,
    as_of_revision: AsOf = None,
    as_json: AsJson = False,
    payloads: Payloads = False,
) -> None:
    """A notice draft's state at a revision and its history."""
    _replay("notice_draft", tenant, draft_id, as_of_revision, as_json, payloads)


def _replay(
    aggregate: str,
    tenant: str,
    aggregate_id: str,
    as_of: int | None,
    as_json: bool,
    payloads: bool,
) -> None:
    try:
        check_tenant_id(tenant, "--tenant")
        check_aggregate_id(aggregate_id, "case_id" if aggregate == "case" else "draft_id")
    except InvalidId as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from error
    with store_session(Settings()) as session:
        try:
            result = replay(session.store, aggregate, tenant, aggregate_id, as_of)
        except EventDecodingError as error:
            line = " ".join(str(error).split())  # one line, whatever the store held
            errors.print(f"[red]error:[/red] cannot replay safely: {escape(line)}")
            raise typer.Exit(code=1) from error
    if result.revision < 0:
        errors.print(f"[red]error:[/red] {result.stream} does not exist")
        raise typer.Exit(code=1)
    if as_of is not None and as_of > result.revision:
        errors.print(
            f"[red]error:[/red] --as-of-revision {as_of} is past the end of {result.stream}: "
            f"its last revision is {result.revision}"
        )
        raise typer.Exit(code=2)
    if as_json:
        document = replay_document(result)
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    _show(result, payloads)


def _show(result: Replay, payloads: bool) -> None:
    console.print(f"[bold]{result.stream}[/bold] up to revision {result.revision}")
    for event in result.history:
        run = f"  run {event.run_id}" if event.run_id else ""
        console.print(
            f"[bold]{event.stream_revision:>4}[/bold]  [cyan]{event.event_type}[/cyan]  "
            f"{event.occurred_at.isoformat(timespec='seconds')}  "
            f"{event.actor_type}:{event.actor_id}{run}"
        )
        console.print(
            f"      [dim]command {event.command_type} {event.command_id}  correlation "
            f"{event.correlation_id}  causation {event.causation_id}  policy "
            f"{event.policy_version}[/dim]"
        )
        if payloads:
            console.print(Pretty(event.payload, indent_guides=False), soft_wrap=False)
    state = orjson.loads(orjson.dumps(replay_document(result)["state"]))
    console.print("[bold]state[/bold]")
    console.print(Pretty(state))
