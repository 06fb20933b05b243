"""Notice drafts per case: each draft's lifecycle status, current content version and digest,
and the approval and send request bound to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Final

from caseledger.projections.events import ProjectedEvent
from caseledger.projections.projection import (
    Projection,
    RowLookup,
    document_of,
    existing,
    put,
    tenant_key,
)
from caseledger.projections.rows import RowChange

_STATUS_AFTER: Final = {
    "notice_draft.drafted": "drafted",
    "notice_draft.revised": "drafted",
    "notice_draft.approval_requested": "approval_requested",
    "notice_draft.approval_request_renewed": "approval_requested",
    "notice_draft.approved": "approved",
    "notice_draft.rejected": "rejected",
    "notice_draft.withdrawn": "withdrawn",
    "notice_draft.send_requested": "send_requested",
    "notice_draft.sent": "sent",
}

_COPIED: Final = {
    "notice_draft.revised": ("content_version", "subject", "digest"),
    "notice_draft.approval_requested": ("approval_request_id",),
    "notice_draft.approval_request_renewed": ("approval_request_id",),
    "notice_draft.approved": ("approval_id",),
    "notice_draft.send_requested": ("send_request_id",),
    "notice_draft.sent": ("message_id",),
}


class NoticeDraftsProjection(Projection):
    """Rule: a revision voids the approval: the draft is back to `drafted`, unapproved."""

    name: ClassVar[str] = "notice_drafts"
    version: ClassVar[int] = 1
    columns: ClassVar[tuple[str, ...]] = ("case_id", "status")
    handles: ClassVar[frozenset[str]] = frozenset(_STATUS_AFTER)
    categories: ClassVar[frozenset[str]] = frozenset({"noticedraft"})

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        return [] if event.type == "notice_draft.drafted" else [_key(event)]

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        draft_id = event.text("draft_id")
        key = _key(event)
        previous = None
        if event.type == "notice_draft.drafted":
            doc: dict[str, Any] = {
                "draft_id": draft_id,
                "case_id": event.text("case_id"),
                "recipient": event.text("recipient"),
                "subject": event.text("subject"),
                "content_version": event.payload.get("content_version"),
                "digest": event.text("digest"),
                "drafted_by": f"{event.text('drafted_by_type')}:{event.text('drafted_by_id')}",
                "approval_request_id": None,
                "approval_id": None,
                "send_request_id": None,
                "message_id": None,
            }
        else:
            previous = existing(rows, key, event)
            doc = document_of(previous)
            for field in _COPIED.get(event.type, ()):
                doc[field] = event.payload.get(field)
        if event.type == "notice_draft.revised":
            doc["approval_request_id"] = None
            doc["approval_id"] = None
        doc["status"] = _STATUS_AFTER[event.type]
        doc["last_updated_at"] = event.occurred_at
        columns = {"case_id": doc["case_id"], "status": doc["status"]}
        return [put(event, key, doc, columns, previous)]


def _key(event: ProjectedEvent) -> str:
    return tenant_key(event.tenant_id, event.text("draft_id"))
