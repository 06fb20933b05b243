"""The seed's §30 drill end to end through the service: fetch case, search evidence, propose
risk update, create analyst brief, request approval, approve notice, send notice, close case."""

from __future__ import annotations

import orjson

from caseledger.domain.application.replay import replay
from caseledger.domain.application.service import CommandService
from caseledger.domain.case.state import CaseStatus, RiskLevel
from caseledger.domain.notice_draft.state import NoticeStatus
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import AGENT, REVIEWER, SUPERVISOR, SYSTEM
from tests.support.builders import TENANT
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.memory_store import InMemoryEventStore


def test_the_enforcement_drill_runs_end_to_end(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service, approved_evidence=("e1", "e2"))

    # fetch case (a read: replay) and search evidence (approved items only; the read side's
    # full-text search comes later) -- neither writes
    writes = store.appends
    fetched = replay(store, "case", TENANT, "c1")
    assert fetched.state.approved_evidence() == ["e1", "e2"]
    assert store.appends == writes

    # the agent proposes a risk update; a reviewer approves it
    proposal = issue(
        service,
        "propose_risk_update",
        {
            "case_id": "c1",
            "proposed_risk_level": "high",
            "rationale": "40% monthly interest",
            "evidence_refs": ["e1", "e2"],
            "confidence": 0.82,
        },
        AGENT,
    )
    assert proposal.status is CommandOutcome.REQUIRES_APPROVAL
    accepted(
        issue(
            service,
            "decide_proposal",
            {
                "case_id": "c1",
                "approval_request_id": proposal.approval_request_id,
                "proposal_digest": proposal.events[0].payload["digest"],
                "decision": "approve",
            },
            REVIEWER,
        )
    )

    # the agent writes a brief and drafts the notice, and asks for its approval
    accepted(
        issue(
            service,
            "create_analyst_brief",
            {
                "case_id": "c1",
                "brief_id": "b1",
                "title": "Findings",
                "body": "Lender charges 40%.",
                "evidence_refs": ["e1"],
            },
            AGENT,
        )
    )
    draft = accepted(
        issue(
            service,
            "create_notice_draft",
            {
                "draft_id": "n1",
                "case_id": "c1",
                "recipient": "lender@example.com",
                "subject": "Cease and desist",
                "body": "Stop lending above the cap.",
            },
            AGENT,
        )
    )
    digest = draft.events[0].payload["digest"]
    request = accepted(issue(service, "request_notice_approval", {"draft_id": "n1"}, AGENT))
    assert request.approval_request_id is not None

    # a reviewer approves the exact digest; a supervisor asks to send; the worker records it
    accepted(
        issue(
            service,
            "approve_notice_draft",
            {
                "draft_id": "n1",
                "approval_request_id": request.approval_request_id,
                "digest": digest,
            },
            REVIEWER,
        )
    )
    send = accepted(issue(service, "send_approved_notice", {"draft_id": "n1"}, SUPERVISOR))
    send_request_id = send.events[0].payload["send_request_id"]
    accepted(
        issue(
            service,
            "record_notice_sent",
            {"draft_id": "n1", "send_request_id": send_request_id, "message_id": "<m1@cl>"},
            SYSTEM,
        )
    )

    accepted(
        issue(service, "close_case", {"case_id": "c1", "resolution": "Notice sent"}, SUPERVISOR)
    )

    case = replay(store, "case", TENANT, "c1").state
    notice = replay(store, "notice_draft", TENANT, "n1").state
    assert (case.status, case.risk_level, case.briefs) == (
        CaseStatus.CLOSED,
        RiskLevel.HIGH,
        frozenset({"b1"}),
    )
    assert (notice.status, notice.digest) == (NoticeStatus.SENT, digest)
    drafted_meta = orjson.loads(store.read_stream("noticedraft-t1_n1")[0].metadata)
    assert drafted_meta["factsRead"] == "case-t1_c1@8"  # the case head when drafted
    assert store.read_stream("commandlog-t1")[0].type == "commandlog.command_not_accepted"
