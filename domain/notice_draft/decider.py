"""The NoticeDraft decider: `decide(command, state) -> events`, `evolve(state, event) -> state`.

An approval binds to the exact content digest approved; a revision voids it; only approved
content is sent; the drafter (any author of a content version) cannot approve.
"""

from __future__ import annotations

from dataclasses import replace

from caseledger.domain.notice_draft import approvals
from caseledger.domain.notice_draft.commands import (
    ApproveNoticeDraft,
    CreateNoticeDraft,
    NoticeDraftCommand,
    RecordNoticeSent,
    RejectNoticeDraft,
    RequestNoticeApproval,
    ReviseNoticeDraft,
    SendApprovedNotice,
    WithdrawNoticeDraft,
)
from caseledger.domain.notice_draft.events import (
    NoticeApprovalRequested,
    NoticeApprovalRequestRenewed,
    NoticeDraftApproved,
    NoticeDrafted,
    NoticeDraftRejected,
    NoticeDraftRevised,
    NoticeDraftWithdrawn,
    NoticeSendRequested,
    NoticeSent,
)
from caseledger.domain.notice_draft.rules import require_active_case, require_status
from caseledger.domain.notice_draft.state import (
    REVISABLE,
    Approval,
    NoticeDraftState,
    NoticeStatus,
    PendingApproval,
    content_digest,
)
from caseledger.domain.shared.commands import Command, CommandMeta
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.persistent import PSet
from caseledger.domain.shared.reasons import ReasonCode


def initial_state() -> NoticeDraftState:
    return NoticeDraftState()


def decide(command: Command[NoticeDraftCommand], state: NoticeDraftState) -> list[DomainEvent]:
    """The facts `command` establishes, or `Rejected` naming the rule it breaks."""
    body, meta = command.body, command.meta
    match body:
        case CreateNoticeDraft():
            return [_drafted(body, meta, state)]
        case ReviseNoticeDraft():
            return [_revised(body, meta, state)]
        case RequestNoticeApproval():
            require_status(state, {NoticeStatus.DRAFTED}, "request approval of")
            return [approvals.requested(state, meta)]
        case ApproveNoticeDraft():
            return [approvals.approve(body, meta, state)]
        case RejectNoticeDraft():
            return [approvals.reject(body, meta, state)]
        case WithdrawNoticeDraft():
            require_status(state, REVISABLE, "withdraw")
            return [
                NoticeDraftWithdrawn(
                    draft_id=body.draft_id, withdrawn_by=meta.actor.key, reason=body.reason
                )
            ]
        case SendApprovedNotice():
            return [_send_requested(body, meta, state)]
        case RecordNoticeSent():
            return [_sent(body, meta, state)]


def _drafted(body: CreateNoticeDraft, meta: CommandMeta, state: NoticeDraftState) -> NoticeDrafted:
    if state.status is not NoticeStatus.NEW:
        raise Rejected(ReasonCode.ALREADY_EXISTS, f"notice draft {body.draft_id!r} exists")
    require_active_case(meta.case, body.case_id, meta.tenant_id)
    return NoticeDrafted(
        draft_id=body.draft_id,
        tenant_id=meta.tenant_id,
        case_id=body.case_id,
        recipient=body.recipient,
        subject=body.subject,
        body=body.body,
        content_version=1,
        digest=content_digest(body.recipient, body.subject, body.body),
        drafted_by_type=meta.actor.type.value,
        drafted_by_id=meta.actor.id,
        run_id=meta.actor.run_id,
    )


def _revised(
    body: ReviseNoticeDraft, meta: CommandMeta, state: NoticeDraftState
) -> NoticeDraftRevised:
    """A revision is a new content version; it voids a pending request or an approval."""
    require_status(state, REVISABLE, "revise")
    pending, approval = state.pending_approval, state.approval
    return NoticeDraftRevised(
        draft_id=body.draft_id,
        content_version=state.content_version + 1,
        subject=body.subject,
        body=body.body,
        digest=content_digest(state.recipient, body.subject, body.body),
        revised_by_type=meta.actor.type.value,
        revised_by_id=meta.actor.id,
        voided_approval_request_id=pending.approval_request_id if pending else None,
        voided_approval_id=approval.approval_id if approval else None,
    )


def _send_requested(
    body: SendApprovedNotice, meta: CommandMeta, state: NoticeDraftState
) -> NoticeSendRequested:
    """Only the approved content is sent, and only while its case takes work."""
    require_status(state, {NoticeStatus.APPROVED}, "send")
    assert state.approval is not None
    assert state.case_id is not None
    if state.approval.digest != state.digest:
        raise Rejected(ReasonCode.DIGEST_MISMATCH, "the approval is for other content")
    require_active_case(meta.case, state.case_id, meta.tenant_id)
    return NoticeSendRequested(
        draft_id=body.draft_id,
        case_id=state.case_id,
        send_request_id=meta.new_id("snd"),
        approval_id=state.approval.approval_id,
        digest=state.digest,
        recipient=state.recipient,
        requested_by=meta.actor.key,
    )


def _sent(body: RecordNoticeSent, meta: CommandMeta, state: NoticeDraftState) -> NoticeSent:
    require_status(state, {NoticeStatus.SEND_REQUESTED}, "record as sent")
    if body.send_request_id != state.send_request_id:
        raise Rejected(ReasonCode.UNKNOWN_REFERENCE, f"no send request {body.send_request_id!r}")
    return NoticeSent(
        draft_id=body.draft_id,
        send_request_id=body.send_request_id,
        digest=state.digest,
        message_id=body.message_id,
        sent_by=meta.actor.key,
    )


def evolve(state: NoticeDraftState, event: DomainEvent) -> NoticeDraftState:
    """The state after `event`; events this aggregate does not know leave it unchanged."""
    match event:
        case NoticeDrafted():
            return replace(
                state,
                draft_id=event.draft_id,
                tenant_id=event.tenant_id,
                case_id=event.case_id,
                status=NoticeStatus.DRAFTED,
                recipient=event.recipient,
                subject=event.subject,
                body=event.body,
                content_version=event.content_version,
                digest=event.digest,
                authors=PSet([f"{event.drafted_by_type}:{event.drafted_by_id}"]),
            )
        case NoticeDraftRevised():
            return _after_revision(state, event)
        case NoticeApprovalRequested():
            pending = PendingApproval(event.approval_request_id, event.digest, event.policy_version)
            return replace(state, status=NoticeStatus.APPROVAL_REQUESTED, pending_approval=pending)
        case NoticeApprovalRequestRenewed():
            return _after_renewal(state, event)
        case NoticeDraftApproved():
            return replace(
                state,
                status=NoticeStatus.APPROVED,
                pending_approval=None,
                approval=Approval(event.approval_id, event.digest),
                decided_requests=state.decided_requests.add(event.approval_request_id),
            )
        case NoticeDraftRejected():
            return replace(
                state,
                status=NoticeStatus.REJECTED,
                pending_approval=None,
                decided_requests=state.decided_requests.add(event.approval_request_id),
            )
        case NoticeDraftWithdrawn():
            return replace(state, status=NoticeStatus.WITHDRAWN)
        case NoticeSendRequested():
            return replace(
                state, status=NoticeStatus.SEND_REQUESTED, send_request_id=event.send_request_id
            )
        case NoticeSent():
            return replace(state, status=NoticeStatus.SENT)
    return state


def _after_revision(state: NoticeDraftState, event: NoticeDraftRevised) -> NoticeDraftState:
    voided = event.voided_approval_request_id
    return replace(
        state,
        status=NoticeStatus.DRAFTED,
        subject=event.subject,
        body=event.body,
        content_version=event.content_version,
        digest=event.digest,
        authors=state.authors.add(f"{event.revised_by_type}:{event.revised_by_id}"),
        pending_approval=None,
        approval=None,
        decided_requests=state.decided_requests.add(voided) if voided else state.decided_requests,
    )


def _after_renewal(
    state: NoticeDraftState, event: NoticeApprovalRequestRenewed
) -> NoticeDraftState:
    assert state.pending_approval is not None
    pending = replace(
        state.pending_approval,
        approval_request_id=event.approval_request_id,
        policy_version=event.policy_version,
    )
    return replace(
        state,
        pending_approval=pending,
        decided_requests=state.decided_requests.add(event.previous_approval_request_id),
    )
