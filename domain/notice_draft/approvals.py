"""Approval of a notice: requested for a digest under a policy version, decided by someone who
did not write it, renewed (never applied silently) when the policy changed in between."""

from __future__ import annotations

from caseledger.domain.notice_draft.commands import ApproveNoticeDraft, RejectNoticeDraft
from caseledger.domain.notice_draft.events import (
    NoticeApprovalRequested,
    NoticeApprovalRequestRenewed,
    NoticeDraftApproved,
    NoticeDraftEvent,
    NoticeDraftRejected,
)
from caseledger.domain.notice_draft.rules import (
    pending_request,
    require_active_case,
    require_status,
)
from caseledger.domain.notice_draft.state import NoticeDraftState, NoticeStatus
from caseledger.domain.shared.commands import CommandMeta
from caseledger.domain.shared.guards import require_approver, require_digest, require_four_eyes


def requested(state: NoticeDraftState, meta: CommandMeta) -> NoticeApprovalRequested:
    assert state.draft_id is not None
    assert state.case_id is not None
    return NoticeApprovalRequested(
        draft_id=state.draft_id,
        case_id=state.case_id,
        approval_request_id=meta.new_id("apr"),
        digest=state.digest,
        content_version=state.content_version,
        requested_by=meta.actor.key,
        policy_version=meta.policy_version,
    )


def approve(
    body: ApproveNoticeDraft, meta: CommandMeta, state: NoticeDraftState
) -> NoticeDraftEvent:
    """Lifecycle -> case still active -> digest binding -> four eyes -> policy version (renew if
    changed) -> approver role -> approved."""
    require_status(state, {NoticeStatus.APPROVAL_REQUESTED}, "approve")
    pending = pending_request(state, body.approval_request_id)
    assert state.case_id is not None
    require_active_case(meta.case, state.case_id, meta.tenant_id)
    require_digest(body.digest, pending.digest, f"notice {body.draft_id}")
    require_four_eyes(meta.actor, state.authors, f"notice {body.draft_id}")
    if pending.policy_version != meta.policy_version:
        return NoticeApprovalRequestRenewed(
            draft_id=body.draft_id,
            previous_approval_request_id=pending.approval_request_id,
            approval_request_id=meta.new_id("apr"),
            previous_policy_version=pending.policy_version,
            policy_version=meta.policy_version,
        )
    require_approver(meta.actor, meta.policy.notice_approver_roles, "a notice")
    return NoticeDraftApproved(
        draft_id=body.draft_id,
        case_id=state.case_id,
        approval_id=meta.new_id("apv"),
        approval_request_id=pending.approval_request_id,
        digest=pending.digest,
        content_version=state.content_version,
        approved_by=meta.actor.key,
        comment=body.comment,
        policy_version=meta.policy_version,
    )


def reject(body: RejectNoticeDraft, meta: CommandMeta, state: NoticeDraftState) -> NoticeDraftEvent:
    require_status(state, {NoticeStatus.APPROVAL_REQUESTED}, "reject")
    pending = pending_request(state, body.approval_request_id)
    require_approver(meta.actor, meta.policy.notice_approver_roles, "a notice")
    return NoticeDraftRejected(
        draft_id=body.draft_id,
        approval_request_id=pending.approval_request_id,
        rejected_by=meta.actor.key,
        reason=body.reason,
    )
