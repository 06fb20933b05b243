"""Notice draft events. Every content version carries its digest; an approval names the digest
it approved; a revision names the approval (or request) it voided."""

from __future__ import annotations

from typing import Final

from caseledger.domain.shared.events import DomainEvent


class NoticeDraftEvent(DomainEvent):
    draft_id: str


class NoticeDrafted(NoticeDraftEvent):
    event_type = "notice_draft.drafted"
    tenant_id: str
    case_id: str
    recipient: str
    subject: str
    body: str
    content_version: int
    digest: str
    drafted_by_type: str
    drafted_by_id: str
    run_id: str | None


class NoticeDraftRevised(NoticeDraftEvent):
    event_type = "notice_draft.revised"
    content_version: int
    subject: str
    body: str
    digest: str
    revised_by_type: str
    revised_by_id: str
    voided_approval_request_id: str | None
    voided_approval_id: str | None


class NoticeApprovalRequested(NoticeDraftEvent):
    event_type = "notice_draft.approval_requested"
    case_id: str
    approval_request_id: str
    digest: str
    content_version: int
    requested_by: str
    policy_version: str


class NoticeApprovalRequestRenewed(NoticeDraftEvent):
    """The policy changed between request and decision: decide again under the new rules."""

    event_type = "notice_draft.approval_request_renewed"
    previous_approval_request_id: str
    approval_request_id: str
    previous_policy_version: str
    policy_version: str


class NoticeDraftApproved(NoticeDraftEvent):
    event_type = "notice_draft.approved"
    case_id: str
    approval_id: str
    approval_request_id: str
    digest: str
    content_version: int
    approved_by: str
    comment: str | None
    policy_version: str


class NoticeDraftRejected(NoticeDraftEvent):
    event_type = "notice_draft.rejected"
    approval_request_id: str
    rejected_by: str
    reason: str


class NoticeDraftWithdrawn(NoticeDraftEvent):
    event_type = "notice_draft.withdrawn"
    withdrawn_by: str
    reason: str


class NoticeSendRequested(NoticeDraftEvent):
    """The request to send the approved content; delivery is the notification worker's."""

    event_type = "notice_draft.send_requested"
    case_id: str
    send_request_id: str
    approval_id: str
    digest: str
    recipient: str
    requested_by: str


class NoticeSent(NoticeDraftEvent):
    """Committed by the system once the notification service delivered the message."""

    event_type = "notice_draft.sent"
    send_request_id: str
    digest: str
    message_id: str
    sent_by: str


NOTICE_DRAFT_EVENTS: Final[tuple[type[DomainEvent], ...]] = (
    NoticeDrafted,
    NoticeDraftRevised,
    NoticeApprovalRequested,
    NoticeApprovalRequestRenewed,
    NoticeDraftApproved,
    NoticeDraftRejected,
    NoticeDraftWithdrawn,
    NoticeSendRequested,
    NoticeSent,
)
