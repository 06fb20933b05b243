"""A past command's body, rebuilt from the events it wrote and the state it was decided on, for
the commands whose decider reads the policy: proposals (minimum confidence, evidence minimum,
auto-commit floors) and decisions on proposals and notices (approver roles, evidence minimum).
Every other command depends on policy only through the agent gate, which needs no body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from pydantic import ValidationError

from caseledger.domain.case.commands import DecideProposal, ProposeCaseEscalation, ProposeRiskUpdate
from caseledger.domain.case.events import (
    CaseEscalated,
    EscalationProposed,
    ProposalDeclined,
    RiskLevelChanged,
    RiskUpdateProposed,
)
from caseledger.domain.case.state import CaseState
from caseledger.domain.notice_draft.commands import ApproveNoticeDraft, RejectNoticeDraft
from caseledger.domain.notice_draft.events import NoticeDraftApproved, NoticeDraftRejected
from caseledger.domain.shared.commands import CommandBody
from caseledger.domain.shared.events import DomainEvent


class NotRebuilt(Exception):
    """The events do not say what the command was (a renewal under a new policy version, an
    event this code does not expect): the command is not re-decided."""


def _proposal(events: tuple[DomainEvent, ...], state: Any) -> CommandBody:
    first = events[0]
    if isinstance(first, RiskUpdateProposed):
        return ProposeRiskUpdate(
            case_id=first.case_id,
            proposed_risk_level=first.proposed_risk_level,
            rationale=first.rationale,
            evidence_refs=list(first.evidence_refs),
            confidence=first.confidence,
        )
    if isinstance(first, EscalationProposed):
        return ProposeCaseEscalation(
            case_id=first.case_id,
            rationale=first.rationale,
            evidence_refs=list(first.evidence_refs),
            confidence=first.confidence,
        )
    raise NotRebuilt(first.event_type)


def _decision(events: tuple[DomainEvent, ...], state: Any) -> CommandBody:
    first = events[0]
    if not isinstance(first, RiskLevelChanged | CaseEscalated | ProposalDeclined):
        raise NotRebuilt(first.event_type)
    if first.approval_request_id is None or not isinstance(state, CaseState):
        raise NotRebuilt(first.event_type)
    proposal = state.proposals.get(first.proposal_id)
    if proposal is None:
        raise NotRebuilt(first.event_type)
    return DecideProposal(
        case_id=first.case_id,
        approval_request_id=first.approval_request_id,
        proposal_digest=proposal.digest,
        decision="decline" if isinstance(first, ProposalDeclined) else "approve",
        comment=first.comment if isinstance(first, ProposalDeclined) else None,
    )


def _notice_approval(events: tuple[DomainEvent, ...], state: Any) -> CommandBody:
    first = events[0]
    if not isinstance(first, NoticeDraftApproved):
        raise NotRebuilt(first.event_type)
    return ApproveNoticeDraft(
        draft_id=first.draft_id,
        approval_request_id=first.approval_request_id,
        digest=first.digest,
        comment=first.comment,
    )


def _notice_rejection(events: tuple[DomainEvent, ...], state: Any) -> CommandBody:
    first = events[0]
    if not isinstance(first, NoticeDraftRejected):
        raise NotRebuilt(first.event_type)
    return RejectNoticeDraft(
        draft_id=first.draft_id, approval_request_id=first.approval_request_id, reason=first.reason
    )


REBUILDERS: Final[Mapping[str, Callable[[tuple[DomainEvent, ...], Any], CommandBody]]] = {
    "propose_risk_update": _proposal,
    "propose_case_escalation": _proposal,
    "decide_proposal": _decision,
    "approve_notice_draft": _notice_approval,
    "reject_notice_draft": _notice_rejection,
}
"""Command types whose decider reads the policy -> how to rebuild their body."""


def body_of(command_type: str, events: tuple[DomainEvent, ...], state: Any) -> CommandBody:
    """The body of a policy-reading command; raises NotRebuilt where the events do not say."""
    rebuild = REBUILDERS[command_type]
    try:
        return rebuild(events, state)
    except ValidationError as error:
        raise NotRebuilt(f"{command_type}: {error.error_count()} invalid field(s)") from None
