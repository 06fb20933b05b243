"""The `caseledger` command: one typer app, one module per command group."""

from __future__ import annotations

import typer

from caseledger.adapters.cli import (
    audit,
    audit_chains,
    command,
    demo,
    eventstore,
    mcp,
    migrate,
    notifications,
    outbox,
    projections,
    projections_run,
    query,
    replay,
    serve,
    whatif,
)

app = typer.Typer(
    name="caseledger",
    help=(
        "Event-sourced regulatory case work: agents propose, handlers commit, events record facts."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(eventstore.app, name="eventstore")
projections.app.command("run")(projections_run.run)
app.add_typer(projections.app, name="projections")
app.command("serve")(serve.serve)
app.command("command")(command.command)
app.command("query")(query.query)
app.add_typer(replay.app, name="replay")
app.command("demo")(demo.demo)
app.command("mcp")(mcp.mcp)
audit.app.command("what-if")(whatif.what_if)
audit.app.command("verify")(audit_chains.verify)
audit.app.command("heads")(audit_chains.heads)
app.add_typer(audit.app, name="audit")
app.add_typer(outbox.app, name="outbox")
app.add_typer(notifications.app, name="notifications")
app.command("migrate")(migrate.migrate)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
