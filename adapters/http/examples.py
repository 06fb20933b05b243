"""One example payload for every command and query type, shown in the OpenAPI document.

Rule: each is a payload its service accepts as schema-valid (tests send every one over HTTP);
ids that a command mints (`approval_request_id`) and digests are the kind a client reads from a
`requires_approval` answer or from `list_pending_approvals` / `list_notice_drafts`."""

from __future__ import annotations

from typing import Any, Final

_DIGEST: Final = "3f0c5e8a9b1d2c4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"

COMMAND_EXAMPLES: Final[dict[str, dict[str, Any]]] = {
    "open_case": {
        "case_id": "case-42",
        "allegation_summary": "Unlicensed lending to retail customers",
        "assigned_team": "consumer-credit",
    },
    "start_case_review": {"case_id": "case-42"},
    "submit_evidence": {
        "case_id": "case-42",
        "evidence_id": "ev-1",
        "title": "Loan agreement",
        "text": "Signed agreement for a 5,000 EUR loan at 49% APR.",
        "source_ref": "upload:agreement.pdf",
    },
    "review_evidence": {"case_id": "case-42", "evidence_id": "ev-1", "verdict": "approve"},
    "propose_risk_update": {
        "case_id": "case-42",
        "proposed_risk_level": "high",
        "rationale": "Approved evidence shows lending without a licence.",
        "evidence_refs": ["ev-1"],
        "confidence": 0.82,
    },
    "propose_case_escalation": {
        "case_id": "case-42",
        "rationale": "Repeated unlicensed lending; refer to enforcement.",
        "evidence_refs": ["ev-1"],
        "confidence": 0.9,
    },
    "decide_proposal": {
        "case_id": "case-42",
        "approval_request_id": "apr-0f1e2d3c4b5a69788796",
        "proposal_digest": _DIGEST,
        "decision": "approve",
        "comment": "Evidence is conclusive.",
    },
    "create_analyst_brief": {
        "case_id": "case-42",
        "brief_id": "brief-1",
        "title": "Summary for the supervisor",
        "body": "The lender operated without a licence from 2025-03 to 2026-01.",
        "evidence_refs": ["ev-1"],
    },
    "close_case": {"case_id": "case-42", "resolution": "Licence obtained; fine paid."},
    "dismiss_case": {"case_id": "case-42", "reason": "The lender holds a valid licence."},
    "create_notice_draft": {
        "draft_id": "notice-7",
        "case_id": "case-42",
        "recipient": "compliance@lender.example",
        "subject": "Notice of investigation",
        "body": "We have opened an investigation into your lending activity.",
    },
    "revise_notice_draft": {
        "draft_id": "notice-7",
        "subject": "Notice of investigation (revised)",
        "body": "We have opened an investigation into your consumer lending activity.",
    },
    "request_notice_approval": {"draft_id": "notice-7"},
    "approve_notice_draft": {
        "draft_id": "notice-7",
        "approval_request_id": "apr-1a2b3c4d5e6f70819203",
        "digest": _DIGEST,
        "comment": "Approved as drafted.",
    },
    "reject_notice_draft": {
        "draft_id": "notice-7",
        "approval_request_id": "apr-1a2b3c4d5e6f70819203",
        "reason": "Name the licence requirement that was breached.",
    },
    "withdraw_notice_draft": {"draft_id": "notice-7", "reason": "Superseded by notice-8."},
    "send_approved_notice": {"draft_id": "notice-7"},
    "record_notice_sent": {
        "draft_id": "notice-7",
        "send_request_id": "snd-9a8b7c6d5e4f30211203",
        "message_id": "<notice-7@caseledger.invalid>",
    },
    "publish_policy": {
        "policy_version": "2026-12",
        "rules": {
            "agent_commands": ["propose_risk_update", "create_analyst_brief"],
            "escalation": {"approver_roles": ["supervisor"]},
            "min_escalation_evidence": 2,
            "min_proposal_confidence": 0.6,
        },
    },
    "start_run": {
        "run_id": "run-2026-12-07",
        "agent_name": "risk-bot",
        "requested_by": "user:alice",
        "user_request": "Assess the risk of case-42.",
        "case_id": "case-42",
    },
    "record_model_response": {
        "run_id": "run-2026-12-07",
        "response_id": "resp-1",
        "model": "gpt-example",
        "summary": "The evidence supports a high risk level.",
    },
    "record_tool_call": {
        "run_id": "run-2026-12-07",
        "call_id": "call-1",
        "tool_name": "propose_risk_update",
        "arguments": {"case_id": "case-42", "proposed_risk_level": "high"},
        "response_id": "resp-1",
        "outcome": "requires_approval",
    },
}

QUERY_EXAMPLES: Final[dict[str, dict[str, Any]]] = {
    "get_case_summary": {"case_id": "case-42"},
    "list_cases": {"status": "under_review", "limit": 20, "offset": 0},
    "get_case_agent_context": {"case_id": "case-42", "min_position": 1234, "max_wait_ms": 1000},
    "search_evidence": {"text": "loan agreement", "limit": 5},
    "list_pending_approvals": {"kind": "risk_update", "case_id": "case-42", "limit": 20},
    "list_notice_drafts": {"case_id": "case-42", "limit": 20},
}
