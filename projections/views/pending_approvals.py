"""The reviewers' queue: one row per approval request still waiting for a human decision —
a case proposal (risk update, escalation) or a notice draft's approval. A request leaves the
queue when decided, voided by a revision, withdrawn, or renewed under a new policy version
(the renewed request takes its place)."""

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
from caseledger.projections.rows import Remove, RowChange

_PROPOSED: Final = {
    "case.risk_update_proposed": ("risk_update", "proposed_risk_level"),
    "case.escalation_proposed": ("escalation", "proposed_status"),
}
_PROPOSAL_CLOSED: Final = frozenset(
    {"case.proposal_declined", "case.risk_level_changed", "case.escalated"}
)
_NOTICE_CLOSED: Final = frozenset(
    {
        "notice_draft.approved",
        "notice_draft.rejected",
        "notice_draft.withdrawn",
        "notice_draft.revised",
    }
)


def proposal_key(tenant_id: str, case_id: str, proposal_id: str) -> str:
    return tenant_key(tenant_id, f"case/{case_id}/proposal/{proposal_id}")


def notice_key(tenant_id: str, draft_id: str) -> str:
    return tenant_key(tenant_id, f"noticedraft/{draft_id}")


class PendingApprovalsProjection(Projection):
    """Rule: at most one open request per proposal and per notice draft."""

    name: ClassVar[str] = "pending_approvals"
    version: ClassVar[int] = 1
    columns: ClassVar[tuple[str, ...]] = ("kind", "case_id", "approval_request_id")
    handles: ClassVar[frozenset[str]] = frozenset(
        {
            *_PROPOSED,
            *_PROPOSAL_CLOSED,
            "case.proposal_reevaluated",
            *_NOTICE_CLOSED,
            "notice_draft.approval_requested",
            "notice_draft.approval_request_renewed",
        }
    )
    categories: ClassVar[frozenset[str]] = frozenset({"case", "noticedraft"})
    ignores: ClassVar[frozenset[str]] = frozenset(
        {
            "case.opened",
            "case.review_started",
            "case.evidence_submitted",
            "case.evidence_approved",
            "case.evidence_rejected",
            "case.analyst_brief_created",
            "case.closed",
            "case.dismissed",
            "notice_draft.drafted",
            "notice_draft.send_requested",
            "notice_draft.sent",
        }
    )

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        renewed = event.type in (
            "case.proposal_reevaluated",
            "notice_draft.approval_request_renewed",
        )
        return [_renewed_key(event)] if renewed else []

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        if event.type in _PROPOSED:
            return self._proposed(event)
        if event.type in _PROPOSAL_CLOSED:
            return [Remove(_proposal_key(event))]
        if event.type == "notice_draft.approval_requested":
            return [self._notice_requested(event)]
        if event.type in _NOTICE_CLOSED:
            return [Remove(notice_key(event.tenant_id, event.text("draft_id")))]
        return self._renewed(event, rows)

    def _proposed(self, event: ProjectedEvent) -> Sequence[RowChange]:
        request_id = event.optional_text("approval_request_id")
        if request_id is None:
            return []  # a policy rule committed it at once: nothing to approve
        kind, value_field = _PROPOSED[event.type]
        case_id = event.text("case_id")
        doc: dict[str, Any] = {
            "kind": kind,
            "case_id": case_id,
            "subject_id": event.text("proposal_id"),
            "approval_request_id": request_id,
            "proposed_value": event.payload.get(value_field),
            "digest": event.text("digest"),
            "rationale": event.text("rationale"),
            "evidence_refs": list(event.payload.get("evidence_refs") or []),
            "confidence": event.payload.get("confidence"),
            "requested_by": f"{event.text('proposed_by_type')}:{event.text('proposed_by_id')}",
            "policy_version": event.text("policy_version"),
            "requested_at": event.occurred_at,
        }
        return [put(event, _proposal_key(event), doc, _columns(doc))]

    def _notice_requested(self, event: ProjectedEvent) -> RowChange:
        doc: dict[str, Any] = {
            "kind": "notice",
            "case_id": event.text("case_id"),
            "subject_id": event.text("draft_id"),
            "approval_request_id": event.text("approval_request_id"),
            "digest": event.text("digest"),
            "content_version": event.payload.get("content_version"),
            "requested_by": event.text("requested_by"),
            "policy_version": event.text("policy_version"),
            "requested_at": event.occurred_at,
        }
        return put(event, notice_key(event.tenant_id, doc["subject_id"]), doc, _columns(doc))

    def _renewed(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        """A policy change renewed the request: same subject, new request id and policy."""
        previous = existing(rows, _renewed_key(event), event)
        doc = document_of(previous)
        doc["approval_request_id"] = event.text("approval_request_id")
        doc["policy_version"] = event.text("policy_version")
        return [put(event, previous.key, doc, _columns(doc), previous)]


def _renewed_key(event: ProjectedEvent) -> str:
    if event.type == "case.proposal_reevaluated":
        return _proposal_key(event)
    return notice_key(event.tenant_id, event.text("draft_id"))


def _proposal_key(event: ProjectedEvent) -> str:
    return proposal_key(event.tenant_id, event.text("case_id"), event.text("proposal_id"))


def _columns(doc: dict[str, Any]) -> dict[str, str]:
    return {
        "kind": doc["kind"],
        "case_id": doc["case_id"],
        "approval_request_id": doc["approval_request_id"],
    }
