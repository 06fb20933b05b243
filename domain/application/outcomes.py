"""How a decided batch of events answers its command."""

from __future__ import annotations

from collections.abc import Sequence

from caseledger.domain.case.events import ProposalMade, ProposalReevaluated
from caseledger.domain.notice_draft.events import (
    NoticeApprovalRequested,
    NoticeApprovalRequestRenewed,
)
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.outcomes import CommandOutcome


def outcome_of(events: Sequence[DomainEvent]) -> tuple[CommandOutcome, str | None]:
    """REQUIRES_APPROVAL when the batch ends waiting for a decision (a proposal nobody
    committed, a request renewed under a new policy), with the approval request to decide;
    ACCEPTED otherwise (a notice approval request is itself accepted, and names its id)."""
    last = events[-1]
    if isinstance(last, ProposalMade) and last.approval_request_id is not None:
        return CommandOutcome.REQUIRES_APPROVAL, last.approval_request_id
    if isinstance(last, ProposalReevaluated | NoticeApprovalRequestRenewed):
        return CommandOutcome.REQUIRES_APPROVAL, last.approval_request_id
    if isinstance(last, NoticeApprovalRequested):
        return CommandOutcome.ACCEPTED, last.approval_request_id
    return CommandOutcome.ACCEPTED, None
