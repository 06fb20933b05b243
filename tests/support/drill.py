"""The seed's practice drill (§30) through the command service, as an agent runtime, an agent,
a reviewer and a supervisor do it — with the run reported (§11) and one correlation id for
the whole user request, so the audit can follow it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import ANALYST, REVIEWER, SUPERVISOR

TENANT = "t1"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Drill:
    case_id: str
    draft_id: str
    run_id: str
    correlation_id: str
    proposal_command_id: str
    send_request_event_id: str
    send_request_id: str
    digest: str


class Desk:
    def __init__(self, service: CommandService, correlation_id: str) -> None:
        self.service, self.correlation_id = service, correlation_id

    def issue(
        self,
        command_type: str,
        payload: dict[str, Any],
        actor: Actor,
        *,
        command_id: str | None = None,
        causation_id: str | None = None,
        expect: CommandOutcome = CommandOutcome.ACCEPTED,
    ) -> CommandResult:
        command_id = command_id or f"cmd-{next(_numbers)}-{self.correlation_id}"
        result = self.service.handle(
            CommandEnvelope(
                command_id=command_id,
                command_type=command_type,
                tenant_id=TENANT,
                requested_by_actor_type=actor.type,
                requested_by_actor_id=actor.id,
                requested_by_roles=actor.roles,
                run_id=actor.run_id,
                correlation_id=self.correlation_id,
                causation_id=causation_id,
                idempotency_key=command_id,
                payload_schema=f"{command_type}.v1",
                payload=payload,
            )
        )
        assert result.status is expect, (command_type, result.reason_code, result.reason)
        return result


def practice_drill(service: CommandService, tag: str) -> Drill:
    """Everything up to the request to send the approved notice (delivery is the worker's)."""
    case_id, draft_id, run_id = f"c-{tag}", f"n-{tag}", f"run-{tag}"
    desk = Desk(service, f"corr-{tag}")
    runtime = Actor(ActorType.SYSTEM, "agent-runtime", run_id=run_id)
    agent = Actor(ActorType.AGENT, "risk-bot", run_id=run_id)

    desk.issue(
        "open_case",
        {"case_id": case_id, "allegation_summary": "Unlicensed lending at 40% a month"},
        ANALYST,
    )
    desk.issue("start_case_review", {"case_id": case_id}, ANALYST)
    for evidence in ("e1", "e2"):
        desk.issue(
            "submit_evidence",
            {
                "case_id": case_id,
                "evidence_id": evidence,
                "title": f"Exhibit {evidence}",
                "text": "SECRET-LEDGER-TEXT: 40% monthly interest",
            },
            ANALYST,
        )
        desk.issue(
            "review_evidence",
            {"case_id": case_id, "evidence_id": evidence, "verdict": "approve"},
            REVIEWER,
        )

    # the user's request starts an agent run; the runtime reports what the model inferred
    desk.issue(
        "start_run",
        {
            "run_id": run_id,
            "agent_name": "risk-bot",
            "requested_by": "user:alice",
            "user_request": "Assess the lender's risk and draft a cease-and-desist notice",
            "case_id": case_id,
        },
        runtime,
    )
    desk.issue(
        "record_model_response",
        {
            "run_id": run_id,
            "response_id": "r1",
            "model": "demo-model",
            "summary": "Evidence e1 and e2 show 40% monthly interest: risk is high",
        },
        runtime,
    )
    proposal_command_id = f"cmd-propose-{tag}"
    desk.issue(
        "record_tool_call",
        {
            "run_id": run_id,
            "call_id": "t1",
            "tool_name": "propose_risk_update",
            "arguments": {"case_id": case_id, "proposed_risk_level": "high"},
            "response_id": "r1",
            "command_id": proposal_command_id,
            "outcome": "requires_approval",
        },
        runtime,
    )
    proposal = desk.issue(
        "propose_risk_update",
        {
            "case_id": case_id,
            "proposed_risk_level": "high",
            "rationale": "40% monthly interest",
            "evidence_refs": ["e1", "e2"],
            "confidence": 0.82,
        },
        agent,
        command_id=proposal_command_id,
        causation_id="t1",
        expect=CommandOutcome.REQUIRES_APPROVAL,
    )
    desk.issue(
        "decide_proposal",
        {
            "case_id": case_id,
            "approval_request_id": proposal.approval_request_id,
            "proposal_digest": proposal.events[0].payload["digest"],
            "decision": "approve",
        },
        REVIEWER,
        causation_id=proposal.approval_request_id,
    )
    draft_command_id = f"cmd-draft-{tag}"
    desk.issue(
        "record_tool_call",
        {
            "run_id": run_id,
            "call_id": "t2",
            "tool_name": "create_notice_draft",
            "arguments": {"draft_id": draft_id},
            "response_id": "r1",
            "command_id": draft_command_id,
            "outcome": "accepted",
        },
        runtime,
    )
    draft = desk.issue(
        "create_notice_draft",
        {
            "draft_id": draft_id,
            "case_id": case_id,
            "recipient": "lender@example.com",
            "subject": "Cease and desist",
            "body": "Stop lending above the legal cap.",
        },
        agent,
        command_id=draft_command_id,
        causation_id="t2",
    )
    digest = draft.events[0].payload["digest"]
    request = desk.issue("request_notice_approval", {"draft_id": draft_id}, agent)
    desk.issue(
        "approve_notice_draft",
        {
            "draft_id": draft_id,
            "approval_request_id": request.approval_request_id,
            "digest": digest,
        },
        REVIEWER,
        causation_id=request.approval_request_id,
    )
    send = desk.issue("send_approved_notice", {"draft_id": draft_id}, SUPERVISOR)
    return Drill(
        case_id=case_id,
        draft_id=draft_id,
        run_id=run_id,
        correlation_id=desk.correlation_id,
        proposal_command_id=proposal_command_id,
        send_request_event_id=send.events[0].event_id,
        send_request_id=send.events[0].payload["send_request_id"],
        digest=digest,
    )
