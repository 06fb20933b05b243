"""Case events: facts. `*_proposed` are recommendations; `risk_level_changed` and `escalated`
are the committed facts, naming the proposal, its approval request and the decision."""

from __future__ import annotations

from typing import Final

from caseledger.domain.case.state import CaseStatus, RiskLevel
from caseledger.domain.shared.events import DomainEvent


class CaseEvent(DomainEvent):
    case_id: str


class CaseOpened(CaseEvent):
    event_type = "case.opened"
    tenant_id: str
    allegation_summary: str
    assigned_team: str | None
    opened_by: str


class CaseReviewStarted(CaseEvent):
    event_type = "case.review_started"
    started_by: str


class EvidenceSubmitted(CaseEvent):
    event_type = "case.evidence_submitted"
    evidence_id: str
    title: str
    text: str
    source_ref: str | None
    submitted_by: str


class EvidenceApproved(CaseEvent):
    event_type = "case.evidence_approved"
    evidence_id: str
    reviewed_by: str
    comment: str | None


class EvidenceRejected(CaseEvent):
    event_type = "case.evidence_rejected"
    evidence_id: str
    reviewed_by: str
    comment: str | None


class AnalystBriefCreated(CaseEvent):
    event_type = "case.analyst_brief_created"
    brief_id: str
    title: str
    body: str
    evidence_refs: list[str]
    author_type: str
    author_id: str
    run_id: str | None


class ProposalMade(CaseEvent):
    """Fields every proposal records; `approval_request_id` is None when a policy rule
    committed the proposal at once."""

    proposal_id: str
    approval_request_id: str | None
    rationale: str
    evidence_refs: list[str]
    confidence: float
    proposed_by_type: str
    proposed_by_id: str
    agent_name: str | None
    run_id: str | None
    policy_version: str
    digest: str


class RiskUpdateProposed(ProposalMade):
    event_type = "case.risk_update_proposed"
    current_risk_level: RiskLevel | None
    proposed_risk_level: RiskLevel


class EscalationProposed(ProposalMade):
    event_type = "case.escalation_proposed"
    current_status: CaseStatus
    proposed_status: CaseStatus


class ProposalReevaluated(CaseEvent):
    """The policy changed between proposal and decision: a new approval request, new rules."""

    event_type = "case.proposal_reevaluated"
    proposal_id: str
    previous_approval_request_id: str
    approval_request_id: str
    previous_policy_version: str
    policy_version: str


class ProposalDeclined(CaseEvent):
    event_type = "case.proposal_declined"
    proposal_id: str
    approval_request_id: str
    decision_id: str
    declined_by_type: str
    declined_by_id: str
    comment: str | None
    policy_version: str


class RiskLevelChanged(CaseEvent):
    event_type = "case.risk_level_changed"
    proposal_id: str
    approval_request_id: str | None
    decision_id: str
    from_risk_level: RiskLevel | None
    to_risk_level: RiskLevel
    approved_by_actor_type: str
    approved_by_actor_id: str
    policy_version: str


class CaseEscalated(CaseEvent):
    event_type = "case.escalated"
    proposal_id: str
    approval_request_id: str | None
    decision_id: str
    from_status: CaseStatus
    to_status: CaseStatus
    approved_by_actor_type: str
    approved_by_actor_id: str
    policy_version: str


class CaseClosed(CaseEvent):
    event_type = "case.closed"
    resolution: str
    closed_by: str


class CaseDismissed(CaseEvent):
    event_type = "case.dismissed"
    reason: str
    dismissed_by: str


CASE_EVENTS: Final[tuple[type[DomainEvent], ...]] = (
    CaseOpened,
    CaseReviewStarted,
    EvidenceSubmitted,
    EvidenceApproved,
    EvidenceRejected,
    AnalystBriefCreated,
    RiskUpdateProposed,
    EscalationProposed,
    ProposalReevaluated,
    ProposalDeclined,
    RiskLevelChanged,
    CaseEscalated,
    CaseClosed,
    CaseDismissed,
)
