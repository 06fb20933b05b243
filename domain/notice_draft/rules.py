"""Notice draft rules: lifecycle, the related case, the pending approval request."""

from __future__ import annotations

from collections.abc import Collection

from caseledger.domain.notice_draft.state import NoticeDraftState, NoticeStatus, PendingApproval
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.reasons import ReasonCode


def require_status(state: NoticeDraftState, allowed: Collection[NoticeStatus], action: str) -> None:
    if state.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Rejected(
            ReasonCode.INVALID_TRANSITION,
            f"cannot {action} a notice that is {state.status.value} (allowed from: {names})",
        )


def require_active_case(case: CaseFacts | None, case_id: str, tenant_id: str) -> CaseFacts:
    """The related case exists for this tenant and still takes work (read at decision time;
    its staleness is accepted and recorded). Another tenant's case is answered as an unknown
    one: the answer never reveals that it exists."""
    if case is None or case.case_id != case_id or case.tenant_id != tenant_id:
        raise Rejected(ReasonCode.NOT_FOUND, f"no case {case_id!r}")
    if not case.active:
        raise Rejected(ReasonCode.CASE_NOT_ACTIVE, f"case {case_id!r} is {case.status}")
    return case


def pending_request(state: NoticeDraftState, approval_request_id: str) -> PendingApproval:
    """The approval request a decision names must be the one pending now."""
    pending = state.pending_approval
    if pending is not None and pending.approval_request_id == approval_request_id:
        return pending
    if approval_request_id in state.decided_requests:
        raise Rejected(
            ReasonCode.APPROVAL_REQUEST_NOT_OPEN,
            f"approval request {approval_request_id!r} was decided, renewed or voided",
        )
    raise Rejected(ReasonCode.UNKNOWN_REFERENCE, f"no approval request {approval_request_id!r}")
