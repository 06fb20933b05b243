"""Proposals and their decisions: agents propose, a human (or a policy rule) commits.

A proposal's digest covers what was proposed; a decision names the approval request and the
digest it saw. A policy change between proposal and decision renews the request under the new
rules (`case.proposal_reevaluated`) instead of deciding under the old ones.
"""

from __future__ import annotations

from typing import Any

from caseledger.domain.case.commands import DecideProposal, ProposeCaseEscalation, ProposeRiskUpdate
from caseledger.domain.case.events import (
    CaseEscalated,
    EscalationProposed,
    ProposalDeclined,
    ProposalReevaluated,
    RiskLevelChanged,
    RiskUpdateProposed,
)
from caseledger.domain.case.rules import (
    open_proposal_for,
    require_active,
    require_approved_evidence,
    require_confidence,
    require_status,
)
from caseledger.domain.case.state import CaseState, CaseStatus, Proposal, ProposalKind
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.commands import CommandMeta
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.guards import require_approver, require_digest, require_four_eyes
from caseledger.domain.shared.ids import digest_of
from caseledger.domain.shared.reasons import ReasonCode

POLICY_ACTOR_TYPE = "policy"


def proposal_digest(kind: ProposalKind, case_id: str, value: str, body: Any) -> str:
    """sha256 over what a reviewer is asked to approve."""
    return digest_of(
        {
            "kind": kind.value,
            "case_id": case_id,
            "value": value,
            "rationale": body.rationale,
            "evidence_refs": list(body.evidence_refs),
            "confidence": body.confidence,
        }
    )


def _proposer_fields(meta: CommandMeta) -> dict[str, Any]:
    actor = meta.actor
    return {
        "proposed_by_type": actor.type.value,
        "proposed_by_id": actor.id,
        "agent_name": actor.id if actor.type is ActorType.AGENT else None,
        "run_id": actor.run_id,
        "policy_version": meta.policy_version,
    }


def propose_risk_update(
    body: ProposeRiskUpdate, meta: CommandMeta, state: CaseState
) -> list[DomainEvent]:
    require_active(state, "propose a risk update for")
    if body.proposed_risk_level == state.risk_level:
        raise Rejected(ReasonCode.INVALID_TRANSITION, f"risk is already {state.risk_level}")
    require_confidence(meta.policy, body.confidence)
    require_approved_evidence(state, body.evidence_refs)
    rule = meta.policy.risk_update
    auto = rule.commits_automatically(body.confidence)
    proposed = RiskUpdateProposed(
        case_id=body.case_id,
        proposal_id=meta.new_id("prp"),
        approval_request_id=None if auto else meta.new_id("apr"),
        rationale=body.rationale,
        evidence_refs=body.evidence_refs,
        confidence=body.confidence,
        digest=proposal_digest(
            ProposalKind.RISK_UPDATE, body.case_id, body.proposed_risk_level.value, body
        ),
        current_risk_level=state.risk_level,
        proposed_risk_level=body.proposed_risk_level,
        **_proposer_fields(meta),
    )
    if not auto:
        return [proposed]
    committed = RiskLevelChanged(
        case_id=body.case_id,
        proposal_id=proposed.proposal_id,
        approval_request_id=None,
        decision_id=meta.new_id("dec"),
        from_risk_level=state.risk_level,
        to_risk_level=body.proposed_risk_level,
        approved_by_actor_type=POLICY_ACTOR_TYPE,
        approved_by_actor_id=meta.policy_version,
        policy_version=meta.policy_version,
    )
    return [proposed, committed]


def propose_escalation(
    body: ProposeCaseEscalation, meta: CommandMeta, state: CaseState
) -> list[DomainEvent]:
    """Escalation needs approved evidence (at least the policy's minimum) and one open
    escalation proposal at a time."""
    require_status(state, {CaseStatus.UNDER_REVIEW}, "propose escalating")
    if any(p.kind is ProposalKind.ESCALATION for p in state.open_proposals):
        raise Rejected(ReasonCode.INVALID_TRANSITION, "an escalation is already proposed")
    require_confidence(meta.policy, body.confidence)
    require_approved_evidence(state, body.evidence_refs, meta.policy.min_escalation_evidence)
    auto = meta.policy.escalation.commits_automatically(body.confidence)
    proposed = EscalationProposed(
        case_id=body.case_id,
        proposal_id=meta.new_id("prp"),
        approval_request_id=None if auto else meta.new_id("apr"),
        rationale=body.rationale,
        evidence_refs=body.evidence_refs,
        confidence=body.confidence,
        digest=proposal_digest(ProposalKind.ESCALATION, body.case_id, "escalated", body),
        current_status=state.status,
        proposed_status=CaseStatus.ESCALATED,
        **_proposer_fields(meta),
    )
    if not auto:
        return [proposed]
    return [
        proposed,
        CaseEscalated(
            case_id=body.case_id,
            proposal_id=proposed.proposal_id,
            approval_request_id=None,
            decision_id=meta.new_id("dec"),
            from_status=state.status,
            to_status=CaseStatus.ESCALATED,
            approved_by_actor_type=POLICY_ACTOR_TYPE,
            approved_by_actor_id=meta.policy_version,
            policy_version=meta.policy_version,
        ),
    ]


def decide_proposal(body: DecideProposal, meta: CommandMeta, state: CaseState) -> list[DomainEvent]:
    """Lifecycle (request open, case active) -> binding (digest, four eyes) -> policy version
    (renew if changed) -> approver role -> evidence still sufficient -> the committed fact."""
    require_active(state, "decide a proposal of")
    proposal = open_proposal_for(state, body.approval_request_id)
    require_digest(body.proposal_digest, proposal.digest, f"proposal {proposal.proposal_id}")
    require_four_eyes(meta.actor, {proposal.proposed_by}, f"proposal {proposal.proposal_id}")
    if proposal.policy_version != meta.policy_version:
        return [_reevaluated(body, meta, proposal)]
    rule = (
        meta.policy.risk_update
        if proposal.kind is ProposalKind.RISK_UPDATE
        else meta.policy.escalation
    )
    require_approver(meta.actor, rule.approver_roles, f"a {proposal.kind.value} proposal")
    if body.decision == "decline":
        return [_declined(body, meta, proposal)]
    if proposal.kind is ProposalKind.RISK_UPDATE:
        return [_risk_changed(body, meta, proposal, state)]
    require_status(state, {CaseStatus.UNDER_REVIEW}, "escalate")
    require_approved_evidence(state, proposal.evidence_refs, meta.policy.min_escalation_evidence)
    return [_escalated(body, meta, proposal, state)]


def _reevaluated(body: DecideProposal, meta: CommandMeta, proposal: Proposal) -> DomainEvent:
    return ProposalReevaluated(
        case_id=body.case_id,
        proposal_id=proposal.proposal_id,
        previous_approval_request_id=body.approval_request_id,
        approval_request_id=meta.new_id("apr"),
        previous_policy_version=proposal.policy_version,
        policy_version=meta.policy_version,
    )


def _declined(body: DecideProposal, meta: CommandMeta, proposal: Proposal) -> DomainEvent:
    return ProposalDeclined(
        case_id=body.case_id,
        proposal_id=proposal.proposal_id,
        approval_request_id=body.approval_request_id,
        decision_id=meta.new_id("dec"),
        declined_by_type=meta.actor.type.value,
        declined_by_id=meta.actor.id,
        comment=body.comment,
        policy_version=meta.policy_version,
    )


def _risk_changed(
    body: DecideProposal, meta: CommandMeta, proposal: Proposal, state: CaseState
) -> DomainEvent:
    assert proposal.proposed_risk_level is not None, "a risk proposal names its level"
    return RiskLevelChanged(
        case_id=body.case_id,
        proposal_id=proposal.proposal_id,
        approval_request_id=body.approval_request_id,
        decision_id=meta.new_id("dec"),
        from_risk_level=state.risk_level,
        to_risk_level=proposal.proposed_risk_level,
        approved_by_actor_type=meta.actor.type.value,
        approved_by_actor_id=meta.actor.id,
        policy_version=meta.policy_version,
    )


def _escalated(
    body: DecideProposal, meta: CommandMeta, proposal: Proposal, state: CaseState
) -> DomainEvent:
    return CaseEscalated(
        case_id=body.case_id,
        proposal_id=proposal.proposal_id,
        approval_request_id=body.approval_request_id,
        decision_id=meta.new_id("dec"),
        from_status=state.status,
        to_status=CaseStatus.ESCALATED,
        approved_by_actor_type=meta.actor.type.value,
        approved_by_actor_id=meta.actor.id,
        policy_version=meta.policy_version,
    )
