"""The audit reconstructs the practice drill (seed §30) end to end — user request, agent run,
model inference, tool calls, proposals, policy decisions, approvals, commands, committed events,
the SMTP delivery and the integration publications — and answers every question of §22, over
Python, the CLI (rich, JSON, Mermaid) and HTTP with the query's tenant and role rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from caseledger.adapters.audit.service import AuditNotFound, AuditService
from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.cli.app import app as cli
from caseledger.adapters.http.app import create_app
from caseledger.adapters.integration.contracts import SEND_REQUESTED, subject_for
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import OutboxRelay, RelaySettings
from caseledger.adapters.notifications.ledger import DeliveryLedger
from caseledger.adapters.notifications.sink import SmtpSink
from caseledger.adapters.notifications.smtp import SmtpMailer
from caseledger.adapters.notifications.worker import NotificationWorker, Outcome
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import TokenRegistry
from caseledger.projections.audit.report import QUESTIONS, answers, document, mermaid
from caseledger.projections.audit.trail import Trail
from tests.support.actors import SUPERVISOR
from tests.support.drill import Desk, Drill, practice_drill
from tests.support.nats import Broker

pytestmark = pytest.mark.nats

TOKENS = {
    "tokens": {
        "tok-reviewer-t1": {
            "tenant": "t1",
            "actor_type": "user",
            "actor_id": "rita",
            "roles": ["reviewer"],
        },
        "tok-reviewer-t2": {
            "tenant": "t2",
            "actor_type": "user",
            "actor_id": "ron",
            "roles": ["reviewer"],
        },
        "tok-agent-t1": {
            "tenant": "t1",
            "actor_type": "agent",
            "actor_id": "risk-bot",
            "run_id": "run-x",
        },
    }
}


@pytest.fixture
def caseledger(tmp_path: Path) -> Iterator[App]:
    app = bootstrap(
        Settings(data_dir=tmp_path),
        mem_db=True,
        eventstore_port=0,
        tokens=TokenRegistry.from_document(TOKENS),
    )
    app.start()  # the runner keeps the audit index
    yield app
    app.close()


def _whole_drill(app: App, broker: Broker, sink: SmtpSink, data_dir: Path) -> Drill:
    drill = practice_drill(app.commands, "audit")
    outbox = SqliteOutbox.in_data_dir(data_dir)
    relay = OutboxRelay(app.store, outbox, broker.js, RelaySettings(prefix=broker.prefix))
    relay.pump()
    ledger = DeliveryLedger.in_data_dir(data_dir)
    consumer = broker.js.pull(
        subject_for(broker.prefix, SEND_REQUESTED.name), "notify", broker.stream
    )
    worker = NotificationWorker(
        app.store, app.commands, consumer, SmtpMailer(sink.host, sink.port), ledger
    )
    assert worker.run_once(batch=1, timeout=5.0) == [Outcome.SENT]
    Desk(app.commands, drill.correlation_id).issue(
        "close_case", {"case_id": drill.case_id, "resolution": "Notice sent"}, SUPERVISOR
    )
    relay.pump()
    outbox.close()
    ledger.close()
    assert app.wait_for_views(app.store.head_position(), timeout=60)
    return drill


def _path_to_root(trail: Trail, node_id: str) -> list[str]:
    kinds = []
    current: str | None = node_id
    while current is not None:
        kinds.append(trail.nodes[current].kind)
        current = trail.nodes[current].parent
    return list(reversed(kinds))


def _node(trail: Trail, kind: str, label_part: str) -> str:
    (found,) = [n.id for n in trail.nodes.values() if n.kind == kind and label_part in n.label]
    return found


def test_the_audit_reconstructs_the_practice_drill_and_answers_every_question(
    caseledger: App, broker: Broker, sink: SmtpSink, tmp_path: Path
) -> None:
    drill = _whole_drill(caseledger, broker, sink, tmp_path)
    audit = AuditService.for_data_dir(caseledger.store, caseledger.views, tmp_path)
    trail = audit.case(drill.case_id, "t1")

    facts = answers(trail)
    assert set(facts) == set(QUESTIONS)
    assert all(facts[q] for q in QUESTIONS), [q for q in QUESTIONS if not facts[q]]
    assert facts["what_did_the_user_ask"][0]["user_request"].startswith("Assess the lender")
    assert facts["what_did_the_user_ask"][0]["requested_by"] == "user:alice"
    assert "risk is high" in facts["what_did_the_agent_infer"][0]["summary"]
    proposed = {(p["command_type"], p["agent"]) for p in facts["what_command_did_it_propose"]}
    assert ("propose_risk_update", "agent:risk-bot") in proposed
    assert ("create_notice_draft", "agent:risk-bot") in proposed
    assert {p["policy_version"] for p in facts["which_policy_applied"]} == {"default"}
    approvers = {(d["event_type"], d["decided_by"]) for d in facts["who_approved"]}
    assert approvers == {
        ("case.risk_level_changed", "user:rita"),
        ("notice_draft.approved", "user:rita"),
    }
    handlers = {c["handler"] for c in facts["which_command_handler_committed"]}
    assert {"case.decide_proposal", "notice_draft.record_notice_sent"} <= handlers
    emitted = [e["event_type"] for e in facts["which_event_was_emitted"]]
    assert emitted[-2:] == ["notice_draft.sent", "case.closed"]
    effects = {(s["kind"], s["status"]) for s in facts["which_external_side_effect_occurred"]}
    assert ("smtp_delivery", "recorded") in effects
    assert ("integration_publication", "published") in effects
    smtp = [s for s in facts["which_external_side_effect_occurred"] if s["kind"] == "smtp_delivery"]
    assert smtp[0]["id"] == sink.message_ids()[0]

    # the causation chains, from the user's request to the committed fact and the side effect
    risk = _node(trail, "event", "case.risk_level_changed")
    assert _path_to_root(trail, risk) == [
        "user_request",
        "agent_run",
        "model_response",
        "tool_call",
        "command",
        "event",
        "policy_decision",
        "command",
        "event",
    ]
    delivery = _node(trail, "side_effect", "smtp_delivery")
    assert _path_to_root(trail, delivery) == [
        "command",  # send_approved_notice: the supervisor's own request, no recorded cause
        "event",
        "side_effect",
    ]
    send = _node(trail, "command", "send_approved_notice")
    approved = _node(trail, "event", "notice_draft.approved")
    assert trail.nodes[send].binds_to == [approved]  # it binds to the approval, not caused by it
    sent = _node(trail, "event", "notice_draft.sent")
    assert _path_to_root(trail, sent) == ["command", "event", "side_effect", "command", "event"]
    assert trail.nodes[trail.nodes[sent].parent or ""].detail["causation_id"] == (
        drill.send_request_event_id
    )

    body = orjson.dumps(document(trail))
    assert b"SECRET-LEDGER-TEXT" not in body  # evidence text is shown as its length only
    diagram = mermaid(trail)
    assert diagram.startswith("flowchart TD")
    assert diagram.count(" --> ") == len(trail.nodes) - len(trail.roots)

    by_correlation = audit.correlation(drill.correlation_id, "t1")
    assert {e.event_type for e in by_correlation.events} >= {"run.started", "notice_draft.sent"}
    with pytest.raises(AuditNotFound):
        audit.case(drill.case_id, "t2")
    with pytest.raises(AuditNotFound):
        audit.correlation(drill.correlation_id, "t2")
    audit.close()


def test_the_audit_is_served_over_http_and_the_cli_with_tenant_and_role_rules(
    caseledger: App, broker: Broker, sink: SmtpSink, tmp_path: Path
) -> None:
    drill = _whole_drill(caseledger, broker, sink, tmp_path)
    http = TestClient(create_app(caseledger))

    def get(path: str, token: str) -> tuple[int, dict[str, object]]:
        answer = http.get(path, headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, answer.json()

    status, body = get(f"/v1/audit/cases/{drill.case_id}", "tok-reviewer-t1")
    assert status == 200
    assert body["answers"]["who_approved"]  # type: ignore[index]
    status, _ = get(f"/v1/audit/correlations/{drill.correlation_id}", "tok-reviewer-t1")
    assert status == 200
    assert get(f"/v1/audit/cases/{drill.case_id}", "tok-reviewer-t2")[0] == 404
    assert get("/v1/audit/cases/nope", "tok-reviewer-t1")[0] == 404
    assert get(f"/v1/audit/cases/{drill.case_id}", "tok-agent-t1")[0] == 403

    env = {
        "CASELEDGER_DATA_DIR": str(tmp_path),
        "CASELEDGER_EVENTSTORE_URL": caseledger.eventstore_url,
    }
    runner = CliRunner()
    as_json = runner.invoke(cli, ["audit", "case", drill.case_id, "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert orjson.loads(as_json.output)["answers"]["what_did_the_user_ask"]
    as_text = runner.invoke(cli, ["audit", "correlation", drill.correlation_id], env=env)
    assert as_text.exit_code == 0, as_text.output
    assert "what did the user ask?" in as_text.output
    as_mermaid = runner.invoke(cli, ["audit", "case", drill.case_id, "--mermaid"], env=env)
    assert as_mermaid.output.startswith("flowchart TD")
    missing = runner.invoke(cli, ["audit", "case", "nope"], env=env)
    assert missing.exit_code == 1
    outbox = runner.invoke(cli, ["outbox", "status", "--json"], env=env)
    assert outbox.exit_code == 0, outbox.output
    assert orjson.loads(outbox.output)["counts"]["published"] == 6


def _roots(trail: Trail) -> list[str]:
    return [trail.nodes[r].label.split(" ")[0] for r in trail.roots]


def test_independent_requests_are_roots_and_the_delivery_sits_between_request_and_report(
    caseledger: App, broker: Broker, sink: SmtpSink, tmp_path: Path
) -> None:
    """Two `submit_evidence` requests (no cause) are roots in time order, never children of
    `case.opened`; the SMTP delivery stands between the send request and the worker's report;
    text, JSON and Mermaid show the same roots and edges, and tell human, agent and system
    actors apart."""
    drill = _whole_drill(caseledger, broker, sink, tmp_path)
    audit = AuditService.for_data_dir(caseledger.store, caseledger.views, tmp_path)
    trail = audit.case(drill.case_id, "t1")
    audit.close()

    assert _roots(trail) == [
        "open_case",
        "start_case_review",
        "submit_evidence",
        "review_evidence",
        "submit_evidence",
        "review_evidence",
        "user:alice",  # the user's request behind the agent run
        "send_approved_notice",
        "close_case",
    ]
    positions = [trail.nodes[r].position or 0 for r in trail.roots]
    assert positions == sorted(positions)
    evidence = [r for r in trail.roots if trail.nodes[r].label.startswith("submit_evidence")]
    assert all(trail.nodes[r].parent is None for r in evidence)
    delivery = _node(trail, "side_effect", "smtp_delivery")
    report = trail.nodes[delivery].children
    assert [trail.nodes[c].label.split(" ")[0] for c in report] == ["record_notice_sent"]
    assert trail.nodes[report[0]].actor == "system:notification-worker"
    assert trail.nodes[trail.roots[0]].actor_kind == "human"
    proposal = _node(trail, "command", "propose_risk_update")
    assert trail.nodes[proposal].actor_kind == "agent"

    body = document(trail)
    top = [n["label"].split(" ")[0] for n in body["causation_tree"]]
    assert top == _roots(trail)
    (send,) = [n for n in body["causation_tree"] if n["label"].startswith("send_approved_notice")]
    (requested,) = send["children"]
    (smtp,) = [n for n in requested["children"] if n["label"].startswith("smtp_delivery")]
    assert smtp["kind"] == "side_effect"
    assert smtp["actor_kind"] == "system"
    assert smtp["children"][0]["detail"]["command_type"] == "record_notice_sent"
    assert smtp["children"][0]["children"][0]["label"].startswith("notice_draft.sent")

    diagram = mermaid(trail)
    node_of = {
        found.group(1): line
        for line in diagram.splitlines()
        if (found := re.match(r"\s+(n\d+)[\[(>{]", line)) is not None
    }
    edges = {tuple(line.strip().split(" --> ")) for line in diagram.splitlines() if " --> " in line}
    evidence_ids = {n for n, line in node_of.items() if "command: submit_evidence" in line}
    assert len(evidence_ids) == 2
    assert not any(child in evidence_ids for _, child in edges)  # roots: nothing points at them
    smtp_id = next(n for n, line in node_of.items() if "side_effect: smtp_delivery" in line)
    sent_by = next(n for n, line in node_of.items() if "command: record_notice_sent" in line)
    assert (smtp_id, sent_by) in edges
    assert f"class {smtp_id} system" in diagram
    assert "-.->|binds to|" in diagram
    assert len(edges) == len(trail.nodes) - len(trail.roots)

    env = {
        "CASELEDGER_DATA_DIR": str(tmp_path),
        "CASELEDGER_EVENTSTORE_URL": caseledger.eventstore_url,
    }
    text = CliRunner().invoke(cli, ["audit", "case", drill.case_id], env=env)
    assert text.exit_code == 0, text.output
    top_lines = [
        line[4:].split(" ")[1]
        for line in text.output.splitlines()
        if line.startswith(("├── ", "└── "))
    ]
    assert top_lines == _roots(trail)
    assert "[human user:alice]" in text.output
    assert "[agent agent:risk-bot]" in text.output
    assert "[system system:notification-worker]" in text.output
    assert max(len(line) for line in text.output.splitlines()) > 80  # piped: never cut
    assert "…" not in text.output
