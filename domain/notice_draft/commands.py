"""Notice draft commands."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from caseledger.domain.shared.commands import CommandBody
from caseledger.domain.shared.ids import Identifier

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
NoticeText = Annotated[str, StringConstraints(min_length=1, max_length=50_000)]


class CreateNoticeDraft(CommandBody):
    draft_id: Identifier
    case_id: Identifier
    recipient: ShortText
    subject: ShortText
    body: NoticeText


class ReviseNoticeDraft(CommandBody):
    draft_id: Identifier
    subject: ShortText
    body: NoticeText


class RequestNoticeApproval(CommandBody):
    draft_id: Identifier


class ApproveNoticeDraft(CommandBody):
    draft_id: Identifier
    approval_request_id: Identifier
    digest: ShortText
    comment: ShortText | None = None


class RejectNoticeDraft(CommandBody):
    draft_id: Identifier
    approval_request_id: Identifier
    reason: NoticeText


class WithdrawNoticeDraft(CommandBody):
    draft_id: Identifier
    reason: NoticeText


class SendApprovedNotice(CommandBody):
    draft_id: Identifier


class RecordNoticeSent(CommandBody):
    draft_id: Identifier
    send_request_id: Identifier
    message_id: ShortText


NoticeDraftCommand = (
    CreateNoticeDraft
    | ReviseNoticeDraft
    | RequestNoticeApproval
    | ApproveNoticeDraft
    | RejectNoticeDraft
    | WithdrawNoticeDraft
    | SendApprovedNotice
    | RecordNoticeSent
)
