"""`caseledger demo`: the seed's practice drill (§30) on a fresh data dir, printed as it goes.

An analyst opens a case and submits evidence, a reviewer approves it; the agent searches the
evidence and proposes a risk update, which waits for a human; the agent cannot decide it, a
reviewer approves it; the agent writes a brief, drafts the notice and asks for its approval; a
reviewer approves that exact digest; the agent cannot send it, a supervisor requests the send;
once the sending is done (or, without NATS, requested) the supervisor closes the case. Every
step goes through the same command and query services as the HTTP API, as the demo tokens'
actors. Exit code 1 if any step is not answered as the drill expects.

Then the send happens, when NATS answers at CASELEDGER_NATS_URL: the outbox relay publishes the
request to a JetStream stream of the demo's own (deleted afterwards), the notification worker
delivers the notice to an SMTP sink on loopback and commits `notice_draft.sent`. Without NATS the
demo says the sending was requested but not delivered, and why (exit code 0: the drill held).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from caseledger.adapters.bootstrap import App, bootstrap, tokens_path
from caseledger.adapters.cli.serve import ensure_tokens_file
from caseledger.adapters.envelopes import command_envelope, query_envelope
from caseledger.adapters.notifications.sink import SmtpSink
from caseledger.adapters.outbound import Outbound
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import DEMO_TENANT, Principal, demo_token_names
from caseledger.domain.application.replay import Replay, replay
from caseledger.domain.shared.envelopes import CommandResult, EventEnvelope, QueryResult

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

CASE = "demo-case-1"
DRAFT = "demo-notice-1"
SENDING_TIMEOUT = 30.0
"""Seconds the demo waits for `notice_draft.sent` once the send is requested."""
_COLOURS = {"accepted": "green", "requires_approval": "yellow", "ok": "green", "sent": "green"}


@dataclass
class Drill:
    app: App
    cast: dict[str, Principal]
    steps: int = 0
    failures: list[str] = field(default_factory=list)
    last_position: int = 0

    def command(
        self, who: str, command_type: str, payload: dict[str, Any], expect: str
    ) -> CommandResult:
        result = self.app.commands.handle(command_envelope(self.cast[who], command_type, payload))
        if result.commit_position:
            self.last_position = max(self.last_position, result.commit_position)
        events = ", ".join(e.event_type for e in result.events) or (result.reason_code or "")
        self.step_line(who, command_type, result.status.value, expect, events)
        return result

    def query(self, who: str, query_type: str, payload: dict[str, Any]) -> QueryResult:
        payload = {"min_position": self.last_position, "max_wait_ms": 5000, **payload}
        result = self.app.queries.handle(query_envelope(self.cast[who], query_type, payload))
        self.step_line(
            who, query_type, result.status, "ok", f"{len(result.source_refs)} source refs"
        )
        return result

    def step_line(self, who: str, what: str, outcome: str, expect: str, detail: str) -> None:
        """One numbered step; an outcome other than `expect` is a failure."""
        self.steps += 1
        colour = _COLOURS.get(outcome, "red" if outcome != expect else "cyan")
        mark = "" if outcome == expect else f"  [red bold]expected {expect}[/red bold]"
        if outcome != expect:
            self.failures.append(f"step {self.steps}: {what} by {who} answered {outcome}")
        console.print(
            f"{self.steps:>2}. [bold]{who:<10}[/bold] {what:<26} "
            f"[{colour}]{outcome:<18}[/{colour}] {detail}{mark}"
        )


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="A fresh (missing or empty) data dir; default: a new temporary one."),
    ] = None,
) -> None:
    """Run the seed's practice drill (§30) end to end, the notice's delivery included when NATS
    answers, and print what happened."""
    if data_dir is not None and data_dir.exists() and any(data_dir.iterdir()):
        errors.print(f"[red]error:[/red] {data_dir} is not empty; the demo needs a fresh data dir")
        raise typer.Exit(code=2)
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="caseledger-demo-"))
    sink = SmtpSink.start()
    tag = uuid.uuid4().hex[:12]
    settings = Settings(
        data_dir=data_dir,
        tokens_file=None,
        eventstore_url=None,
        readstore_url=None,
        outbox="auto",
        nats_stream=f"CASELEDGER_DEMO_{tag}",  # the demo's own, so no other worker takes it
        nats_prefix=f"caseledgerdemo{tag}",
        smtp_host=sink.host,
        smtp_port=sink.port,
    )
    ensure_tokens_file(settings)
    try:
        with bootstrap(settings, eventstore_port=0) as app:
            app.start()
            outbound = app.start_outbound()
            names = demo_token_names(tokens_path(settings))
            cast = {n: p for n, s in names.items() if (p := app.tokens.resolve(s)) is not None}
            drill = Drill(app, cast)
            console.print(f"[bold]caseledger demo[/bold]: the §30 drill in {data_dir}\n")
            try:
                run_drill(drill)
                sent = _sending(drill, outbound, sink) if not drill.failures else None
                if not drill.failures:
                    close_case(drill)
                app.wait_for_views(drill.last_position)  # the data dir's views show the drill
                _summary(drill, sent)
            finally:
                outbound.stop(discard_stream=True)
    finally:
        sink.stop()
    if drill.failures:
        for failure in drill.failures:
            errors.print(f"[red]failed:[/red] {failure}")
        raise typer.Exit(code=1)
    console.print(
        f"\nreplay it:  CASELEDGER_DATA_DIR={data_dir} caseledger replay case {CASE} "
        f"--tenant {DEMO_TENANT}\n"
        f"            CASELEDGER_DATA_DIR={data_dir} caseledger replay noticedraft {DRAFT} "
        f"--tenant {DEMO_TENANT}\n"
        f"audit it:   CASELEDGER_DATA_DIR={data_dir} caseledger audit case {CASE} "
        f"--tenant {DEMO_TENANT}"
    )
    if sent is not None:
        console.print(
            f"            CASELEDGER_DATA_DIR={data_dir} caseledger audit correlation "
            f"{sent.correlation_id}   (the send request -> notice_draft.sent)"
        )


def run_drill(drill: Drill) -> None:
    step: Callable[..., CommandResult] = drill.command
    summary = "Unlicensed lending at 40% a month"
    step("analyst", "open_case", {"case_id": CASE, "allegation_summary": summary}, "accepted")
    step("analyst", "start_case_review", {"case_id": CASE}, "accepted")
    evidence = {
        "case_id": CASE,
        "evidence_id": "e1",
        "title": "Loan ledger",
        "text": "Monthly interest of 40 percent charged to 212 borrowers",
    }
    step("analyst", "submit_evidence", evidence, "accepted")
    verdict = {"case_id": CASE, "evidence_id": "e1", "verdict": "approve"}
    step("reviewer", "review_evidence", verdict, "accepted")
    drill.query("agent", "search_evidence", {"text": "interest"})
    proposal = step(
        "agent",
        "propose_risk_update",
        {
            "case_id": CASE,
            "proposed_risk_level": "high",
            "rationale": "40% monthly interest across 212 borrowers",
            "evidence_refs": ["e1"],
            "confidence": 0.82,
        },
        "requires_approval",
    )
    decision = {
        "case_id": CASE,
        "approval_request_id": proposal.approval_request_id or "",
        "proposal_digest": proposal.events[0].payload.get("digest", "") if proposal.events else "",
        "decision": "approve",
    }
    step("agent", "decide_proposal", decision, "rejected")
    step("reviewer", "decide_proposal", decision, "accepted")
    brief = {
        "case_id": CASE,
        "brief_id": "b1",
        "title": "Findings",
        "body": "The lender charges 40% a month, far above the cap.",
        "evidence_refs": ["e1"],
    }
    step("agent", "create_analyst_brief", brief, "accepted")
    notice = {
        "draft_id": DRAFT,
        "case_id": CASE,
        "recipient": "lender@example.com",
        "subject": "Cease and desist",
        "body": "Stop lending above the legal cap.",
    }
    draft = step("agent", "create_notice_draft", notice, "accepted")
    request = step("agent", "request_notice_approval", {"draft_id": DRAFT}, "accepted")
    approval = {
        "draft_id": DRAFT,
        "approval_request_id": request.approval_request_id or "",
        "digest": draft.events[0].payload.get("digest", "") if draft.events else "",
    }
    step("reviewer", "approve_notice_draft", approval, "accepted")
    step("agent", "send_approved_notice", {"draft_id": DRAFT}, "rejected")
    step("supervisor", "send_approved_notice", {"draft_id": DRAFT}, "accepted")
    drill.query("reviewer", "get_case_summary", {"case_id": CASE})


def close_case(drill: Drill) -> None:
    """The drill's last step: the notice is out (or its sending requested), the case is done."""
    resolution = {"case_id": CASE, "resolution": "Cease-and-desist notice sent"}
    drill.command("supervisor", "close_case", resolution, "accepted")


def _sending(drill: Drill, outbound: Outbound, sink: SmtpSink) -> EventEnvelope | None:
    """Wait (bounded) for the worker's `notice_draft.sent`; its event, or None when the
    sending cannot happen here (said why) or did not within SENDING_TIMEOUT (a failure)."""
    if outbound.worker is None:
        console.print(
            "\n[yellow]The sending was requested but not delivered:[/yellow] "
            f"{outbound.worker_absent}. With NATS (JetStream) at CASELEDGER_NATS_URL, the demo's "
            "relay and notification worker deliver it to an SMTP sink on loopback."
        )
        return None
    deadline = time.monotonic() + SENDING_TIMEOUT
    while time.monotonic() < deadline:
        notice = replay(drill.app.store, "notice_draft", DEMO_TENANT, DRAFT)
        if notice.history and notice.history[-1].event_type == "notice_draft.sent":
            sent = notice.history[-1]
            message_id = str(sent.payload.get("message_id", ""))
            delivered = sink.message_ids().count(message_id)
            outcome = "sent" if delivered == 1 else f"delivered {delivered}x"
            drill.step_line(
                "system", "deliver notice (SMTP)", outcome, "sent", f"Message-ID {message_id}"
            )
            return sent
        time.sleep(0.1)
    last_errors = [d.last_error for d in outbound.deliveries([DRAFT]) if d.last_error]
    why = f": {last_errors[-1]}" if last_errors else ""
    drill.step_line(
        "system", "deliver notice (SMTP)", "not sent", "sent", f"{SENDING_TIMEOUT:.0f} s{why}"
    )
    return None


def _summary(drill: Drill, sent: EventEnvelope | None) -> None:
    case = replay(drill.app.store, "case", DEMO_TENANT, CASE)
    notice = replay(drill.app.store, "notice_draft", DEMO_TENANT, DRAFT)
    _table(case, notice)
    if sent is not None:
        console.print(
            "The agent proposed; humans decided; the notification worker delivered the approved "
            f"notice once over SMTP (to the demo's sink) as Message-ID "
            f"{sent.payload.get('message_id')} and recorded it as sent; a supervisor closed the "
            "case."
        )
    else:
        console.print(
            "The agent proposed; humans decided; the send is requested, not delivered; a "
            "supervisor closed the case."
        )


def _table(case: Replay, notice: Replay) -> None:
    table = Table(title="\nwhat the event store now holds", title_justify="left")
    table.add_column("stream")
    table.add_column("events")
    table.add_column("state")
    table.add_row(
        case.stream,
        str(len(case.history)),
        f"status {case.state.status}, risk {case.state.risk_level}",
    )
    table.add_row(notice.stream, str(len(notice.history)), f"status {notice.state.status}")
    console.print(table)
