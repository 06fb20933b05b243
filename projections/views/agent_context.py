"""CaseAgentContextView rows (seed §14): what an agent needs to reason about a case — the
allegation, evidence with its verdicts, open proposals, briefs and the recent events. Allowed
actions and policy notes depend on the caller and the tenant's policy: the query computes them."""

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
from caseledger.projections.rows import Row, RowChange
from caseledger.projections.views.case_summary import CASE_EVENT_TYPES

RECENT_EVENTS: Final = 10
MAX_BRIEFS: Final = 20

_PROPOSALS: Final = {
    "case.risk_update_proposed": ("risk_update", "proposed_risk_level"),
    "case.escalation_proposed": ("escalation", "proposed_status"),
}
_DECISIONS: Final = {
    "case.proposal_declined": "declined",
    "case.risk_level_changed": "approved",
    "case.escalated": "approved",
}


class CaseAgentContextProjection(Projection):
    """Rule: evidence refs are the evidence ids of this case; only approved ones are 'key'."""

    name: ClassVar[str] = "case_agent_context"
    version: ClassVar[int] = 1
    columns: ClassVar[tuple[str, ...]] = ("status",)
    handles: ClassVar[frozenset[str]] = CASE_EVENT_TYPES
    categories: ClassVar[frozenset[str]] = frozenset({"case"})

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        return [] if event.type == "case.opened" else [_key(event)]

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        key = _key(event)
        previous: Row | None = None
        if event.type == "case.opened":
            doc = _opened(event)
        else:
            previous = existing(rows, key, event)
            doc = document_of(previous)
            _evolve(doc, event)
        doc["recent_events"] = _recent(doc, event)
        return [put(event, key, doc, {"status": doc["status"]}, previous)]


def _key(event: ProjectedEvent) -> str:
    return tenant_key(event.tenant_id, event.text("case_id"))


def _opened(event: ProjectedEvent) -> dict[str, Any]:
    return {
        "case_id": event.text("case_id"),
        "tenant_id": event.tenant_id,
        "status": "opened",
        "risk_level": None,
        "assigned_team": event.optional_text("assigned_team"),
        "allegation_summary": event.text("allegation_summary"),
        "evidence": {},
        "open_proposals": {},
        "briefs": [],
        "recent_events": [],
    }


def _evolve(doc: dict[str, Any], event: ProjectedEvent) -> None:
    kind = event.type
    if kind == "case.review_started":
        doc["status"] = "under_review"
    elif kind in ("case.closed", "case.dismissed"):
        doc["status"] = kind.removeprefix("case.")
    elif kind.startswith("case.evidence_"):
        _evidence(doc, event)
    elif kind == "case.analyst_brief_created":
        _brief(doc, event)
    else:
        _proposal(doc, event)


def _evidence(doc: dict[str, Any], event: ProjectedEvent) -> None:
    evidence = dict(doc["evidence"])
    evidence_id = event.text("evidence_id")
    if event.type == "case.evidence_submitted":
        evidence[evidence_id] = {
            "title": event.text("title"),
            "status": "submitted",
            "source_ref": event.optional_text("source_ref"),
            "ref": event.ref,
        }
    else:
        item = dict(evidence.get(evidence_id, {"title": None, "source_ref": None}))
        item["status"] = "approved" if event.type == "case.evidence_approved" else "rejected"
        item["ref"] = event.ref
        evidence[evidence_id] = item
    doc["evidence"] = evidence


def _brief(doc: dict[str, Any], event: ProjectedEvent) -> None:
    brief = {
        "brief_id": event.text("brief_id"),
        "title": event.text("title"),
        "evidence_refs": list(event.payload.get("evidence_refs") or []),
        "author": f"{event.text('author_type')}:{event.text('author_id')}",
        "ref": event.ref,
    }
    doc["briefs"] = [*doc["briefs"], brief][-MAX_BRIEFS:]


def _proposal(doc: dict[str, Any], event: ProjectedEvent) -> None:
    proposals = dict(doc["open_proposals"])
    if event.type in _PROPOSALS:
        kind, value_field = _PROPOSALS[event.type]
        if event.payload.get("approval_request_id") is not None:
            proposals[event.text("proposal_id")] = {
                "kind": kind,
                "proposed_value": event.payload.get(value_field),
                "approval_request_id": event.payload.get("approval_request_id"),
                "confidence": event.payload.get("confidence"),
                "evidence_refs": list(event.payload.get("evidence_refs") or []),
                "proposed_by": f"{event.text('proposed_by_type')}:{event.text('proposed_by_id')}",
                "policy_version": event.payload.get("policy_version"),
                "ref": event.ref,
            }
    elif event.type == "case.proposal_reevaluated":
        proposal_id = event.text("proposal_id")
        if proposal_id in proposals:
            item = dict(proposals[proposal_id])
            item["approval_request_id"] = event.text("approval_request_id")
            item["policy_version"] = event.text("policy_version")
            proposals[proposal_id] = item
    elif event.type in _DECISIONS:
        proposals.pop(event.text("proposal_id"), None)
        if event.type == "case.risk_level_changed":
            doc["risk_level"] = event.text("to_risk_level")
        if event.type == "case.escalated":
            doc["status"] = event.text("to_status")
    doc["open_proposals"] = proposals


def _recent(doc: dict[str, Any], event: ProjectedEvent) -> list[dict[str, Any]]:
    entry = {"type": event.type, "ref": event.ref, "occurred_at": event.occurred_at}
    return [*doc.get("recent_events", []), entry][-RECENT_EVENTS:]
