"""`caseledger audit case <id>` and `caseledger audit correlation <id>`: the timeline and the
causation tree from the user's request to the side effect, with the answers to seed §22's
questions — as rich text (default), `--json`, or `--mermaid` (a diagram an auditor can open).
Only reads. Operators on the machine see every tenant unless `--tenant` narrows it; a case id
that several tenants hold needs `--tenant`."""

from __future__ import annotations

import sys
from typing import Annotated, Final

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from caseledger.adapters.audit.service import AuditAmbiguous, AuditNotFound, AuditService
from caseledger.adapters.bootstrap import read_store
from caseledger.adapters.cli.session import store_session
from caseledger.adapters.settings import Settings
from caseledger.domain.shared.streams import InvalidId
from caseledger.projections.audit.report import (
    answers,
    document,
    mermaid,
    timeline,
    unreadable,
)
from caseledger.projections.audit.trail import Node, Trail, actor_kind

app = typer.Typer(
    help="Audit trails: who asked, what the agent inferred and proposed, which policy, who "
    "approved, what was committed and which side effect followed. Never writes.",
    no_args_is_help=True,
)
errors = Console(stderr=True, soft_wrap=True)
SETTLE_WITHIN: Final = 2.0
"""How long an audit waits for the index to catch up with the store (a runner elsewhere)."""
PIPED_WIDTH: Final = 100_000
"""Output that is not a terminal is never cut: as wide as its longest line."""
ACTOR_STYLES: Final = {"human": "bold blue", "agent": "bold yellow", "system": "dim"}


def output_console() -> Console:
    """The terminal's width on a terminal (long cells wrap); unlimited when piped."""
    piped = not sys.stdout.isatty()
    return Console(soft_wrap=True, width=PIPED_WIDTH if piped else None)


Tenant = Annotated[str | None, typer.Option("--tenant", help="Only this tenant's events.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the trail as JSON.")]
AsMermaid = Annotated[bool, typer.Option("--mermaid", help="Print a Mermaid flowchart.")]


@app.command("case")
def case(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    tenant: Tenant = None,
    as_json: AsJson = False,
    as_mermaid: AsMermaid = False,
) -> None:
    """A case's trail: its stream, its notice drafts, the agent runs on it, the side effects."""
    _audit("case", case_id, tenant, as_json, as_mermaid)


@app.command("correlation")
def correlation(
    correlation_id: Annotated[str, typer.Argument(help="The correlation id of a request.")],
    tenant: Tenant = None,
    as_json: AsJson = False,
    as_mermaid: AsMermaid = False,
) -> None:
    """Everything one user request caused, across streams."""
    _audit("correlation", correlation_id, tenant, as_json, as_mermaid)


def _audit(kind: str, subject: str, tenant: str | None, as_json: bool, as_mermaid: bool) -> None:
    settings = Settings()
    with store_session(settings) as session:
        views = read_store(settings)
        audit = AuditService.for_data_dir(session.store, views, settings.data_dir, SETTLE_WITHIN)
        try:
            trail = (audit.case if kind == "case" else audit.correlation)(subject, tenant)
        except InvalidId as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(code=2) from error
        except (AuditNotFound, AuditAmbiguous) as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(code=1) from error
        finally:
            audit.close()
            views.close()
    if as_json:
        sys.stdout.write(orjson.dumps(document(trail), option=orjson.OPT_INDENT_2).decode() + "\n")
    elif as_mermaid:
        sys.stdout.write(mermaid(trail))
    else:
        show(trail, output_console())


def show(trail: Trail, out: Console) -> None:
    out.print(f"[bold]audit of {trail.subject}[/bold] (tenant {trail.tenant_id})")
    for reason in trail.incomplete:
        out.print(f"[bold red]incomplete:[/bold red] {escape(reason)}")
    for event in unreadable(trail):
        out.print(f"[yellow]unreadable:[/yellow] {escape(str(event['reason']))}")
    for head in trail.chain_heads:
        link = str(head["link"]) if head["link"] else "no link (not chained)"
        out.print(f"chain head {escape(str(head['stream']))}@{head['revision']}  {link}")
    for question, facts in answers(trail).items():
        out.print(f"[bold cyan]{question.replace('_', ' ')}?[/bold cyan]")
        if not facts:
            out.print("  [dim]nothing recorded[/dim]")
        for fact in facts:
            shown = ", ".join(f"{k}={v}" for k, v in fact.items() if v not in (None, [], ""))
            out.print(f"  - {shown}")
    tree = Tree("[bold]causation[/bold]")
    for root in trail.roots:
        _branch(tree, trail, trail.nodes[root])
    out.print(tree)
    table = Table(title="timeline")
    for column in ("pos", "at", "kind", "type", "stream@rev", "actor", "command"):
        table.add_column(column, overflow="fold")
    for row in timeline(trail):
        table.add_row(
            str(row.get("position") or ""),
            str(row.get("at") or ""),
            row["kind"],
            escape(str(row["event_type"])),
            f"{row.get('stream', '')}@{row.get('revision', '')}" if row.get("stream") else "",
            _actor(row.get("actor")),
            str(row.get("command_type") or row.get("status") or ""),
        )
    out.print(table)


def _branch(parent: Tree, trail: Trail, node: Node) -> None:
    who = f" {_actor(node.actor)}" if node.actor else ""
    branch = parent.add(f"[magenta]{node.kind}[/magenta] {escape(node.label)}{who}")
    for child in node.children:
        _branch(branch, trail, trail.nodes[child])


def _actor(actor: object) -> str:
    """`[human user:rita]`, `[agent agent:risk-bot]`, `[system system:...]`: told apart by the
    word even where colour is lost."""
    if not actor:
        return ""
    kind = actor_kind(str(actor))
    style = ACTOR_STYLES.get(kind, "")
    text = escape(f"[{kind} {actor}]")
    return f"[{style}]{text}[/{style}]" if style else text
