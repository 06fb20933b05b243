"""Case rules, one per layer: lifecycle, policy, evidence. Each raises `Rejected` or returns."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from caseledger.domain.case.state import (
    CaseState,
    CaseStatus,
    EvidenceStatus,
    Proposal,
    ProposalStatus,
)
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.reasons import ReasonCode


def require_status(state: CaseState, allowed: Collection[CaseStatus], action: str) -> None:
    """Lifecycle: `action` is allowed only from the `allowed` statuses."""
    if state.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Rejected(
            ReasonCode.INVALID_TRANSITION,
            f"cannot {action} a case that is {state.status.value} (allowed from: {names})",
        )


def require_active(state: CaseState, action: str) -> None:
    """Lifecycle: closed and dismissed cases take no further work."""
    if not state.active:
        raise Rejected(
            ReasonCode.INVALID_TRANSITION, f"cannot {action} a case that is {state.status.value}"
        )


def require_no_open_proposals(state: CaseState, action: str) -> None:
    """Lifecycle: a case is not closed or dismissed over undecided proposals."""
    pending = [p.proposal_id for p in state.open_proposals]
    if pending:
        raise Rejected(ReasonCode.OPEN_PROPOSALS, f"cannot {action}: undecided {pending}")


def require_new_id(used: Collection[str], new_id: str, what: str) -> None:
    if new_id in used:
        raise Rejected(ReasonCode.DUPLICATE_ID, f"{what} {new_id!r} already exists in this case")


def require_confidence(policy: PolicyRules, confidence: float) -> None:
    """Policy: proposals below the tenant's minimum confidence are not worth a reviewer's time."""
    if confidence < policy.min_proposal_confidence:
        raise Rejected(
            ReasonCode.CONFIDENCE_TOO_LOW,
            f"confidence {confidence} is below the policy minimum {policy.min_proposal_confidence}",
        )


def require_approved_evidence(state: CaseState, refs: Sequence[str], minimum: int = 0) -> None:
    """Evidence: at least `minimum` refs, each an approved evidence item of this case."""
    if len(set(refs)) < minimum:
        raise Rejected(
            ReasonCode.EVIDENCE_REQUIRED,
            f"{len(set(refs))} evidence refs given, the policy requires {minimum}",
        )
    for ref in refs:
        status = state.evidence.get(ref)
        if status is None:
            raise Rejected(ReasonCode.UNKNOWN_REFERENCE, f"no evidence {ref!r} in this case")
        if status is not EvidenceStatus.APPROVED:
            raise Rejected(ReasonCode.EVIDENCE_NOT_APPROVED, f"evidence {ref!r} is {status.value}")


def open_proposal_for(state: CaseState, approval_request_id: str) -> Proposal:
    """Lifecycle: the proposal `approval_request_id` is still pending for; a request that was
    decided or renewed (policy change) is no longer open."""
    proposal_id = state.approval_requests.get(approval_request_id)
    if proposal_id is None:
        raise Rejected(ReasonCode.UNKNOWN_REFERENCE, f"no approval request {approval_request_id!r}")
    proposal = state.proposals[proposal_id]
    if proposal.status is not ProposalStatus.OPEN or (
        proposal.approval_request_id != approval_request_id
    ):
        raise Rejected(
            ReasonCode.APPROVAL_REQUEST_NOT_OPEN,
            f"approval request {approval_request_id!r} was decided or renewed",
        )
    return proposal
