"""What a notice draft remembers to decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from caseledger.domain.shared.ids import digest_of
from caseledger.domain.shared.persistent import PSet


class NoticeStatus(StrEnum):
    NEW = "new"
    """No stream yet."""
    DRAFTED = "drafted"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    SEND_REQUESTED = "send_requested"
    SENT = "sent"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


REVISABLE = frozenset(
    {NoticeStatus.DRAFTED, NoticeStatus.APPROVAL_REQUESTED, NoticeStatus.APPROVED}
)


@dataclass(frozen=True)
class PendingApproval:
    approval_request_id: str
    digest: str
    policy_version: str


@dataclass(frozen=True)
class Approval:
    approval_id: str
    digest: str


@dataclass(frozen=True)
class NoticeDraftState:
    draft_id: str | None = None
    tenant_id: str | None = None
    case_id: str | None = None
    status: NoticeStatus = NoticeStatus.NEW
    recipient: str = ""
    subject: str = ""
    body: str = ""
    content_version: int = 0
    digest: str = ""
    authors: PSet[str] = field(default_factory=PSet)
    """Actor keys of everyone who wrote a content version: they cannot approve it."""
    pending_approval: PendingApproval | None = None
    approval: Approval | None = None
    send_request_id: str | None = None
    decided_requests: PSet[str] = field(default_factory=PSet)
    """Approval requests that were approved, rejected, renewed or voided."""


def content_digest(recipient: str, subject: str, body: str) -> str:
    """The digest an approval binds to: sha256 over recipient, subject and body."""
    return digest_of({"recipient": recipient, "subject": subject, "body": body})
