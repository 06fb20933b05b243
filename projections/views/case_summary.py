"""CaseSummaryView rows (seed §4), also what CaseDashboardView pages through: one row per case
with its lifecycle status, risk, team and counts, filterable by status, risk and team."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from caseledger.projections.events import CATALOGUED_TYPES, ProjectedEvent
from caseledger.projections.projection import (
    Projection,
    RowLookup,
    document_of,
    existing,
    put,
    tenant_key,
)
from caseledger.projections.rows import RowChange

CASE_EVENT_TYPES: frozenset[str] = CATALOGUED_TYPES["case"]
"""The type names of every catalogued case event, which the summary follows (the classes are
`domain.case.events.CASE_EVENTS`)."""

_STATUS_AFTER: dict[str, str] = {
    "case.review_started": "under_review",
    "case.closed": "closed",
    "case.dismissed": "dismissed",
}

_COUNTERS: dict[str, tuple[str, ...]] = {
    "case.evidence_submitted": ("evidence_count", "evidence_pending"),
    "case.evidence_approved": ("evidence_approved",),
    "case.evidence_rejected": ("evidence_rejected",),
    "case.analyst_brief_created": ("brief_count",),
}


class CaseSummaryProjection(Projection):
    """Rule: a case's summary reflects every event of its stream, in revision order."""

    name: ClassVar[str] = "case_summary"
    version: ClassVar[int] = 1
    columns: ClassVar[tuple[str, ...]] = ("status", "risk_level", "assigned_team")
    handles: ClassVar[frozenset[str]] = CASE_EVENT_TYPES
    categories: ClassVar[frozenset[str]] = frozenset({"case"})

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        return [] if event.type == "case.opened" else [_key(event)]

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        if event.type == "case.opened":
            return [self._row(event, _opened(event))]
        previous = existing(rows, _key(event), event)
        doc = document_of(previous)
        _evolve(doc, event)
        return [self._row(event, doc, previous)]

    def _row(self, event: ProjectedEvent, doc: dict[str, Any], previous: Any = None) -> RowChange:
        doc["last_updated_at"] = event.occurred_at or doc.get("last_updated_at")
        doc["last_event_type"] = event.type
        columns = {name: doc.get(name) for name in self.columns}
        return put(event, tenant_key(event.tenant_id, doc["case_id"]), doc, columns, previous)


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
        "opened_at": event.occurred_at,
        "evidence_count": 0,
        "evidence_pending": 0,
        "evidence_approved": 0,
        "evidence_rejected": 0,
        "brief_count": 0,
        "open_proposal_ids": [],
    }


def _evolve(doc: dict[str, Any], event: ProjectedEvent) -> None:
    """Apply one case event to a summary document in place."""
    if event.type in _STATUS_AFTER:
        doc["status"] = _STATUS_AFTER[event.type]
    for counter in _COUNTERS.get(event.type, ()):
        doc[counter] = int(doc.get(counter, 0)) + 1
    if event.type in ("case.evidence_approved", "case.evidence_rejected"):
        doc["evidence_pending"] = max(0, int(doc.get("evidence_pending", 0)) - 1)
    _track_proposals(doc, event)


def _track_proposals(doc: dict[str, Any], event: ProjectedEvent) -> None:
    open_ids = [p for p in doc.get("open_proposal_ids", []) if isinstance(p, str)]
    proposal_id = event.optional_text("proposal_id")
    if event.type in ("case.risk_update_proposed", "case.escalation_proposed"):
        if event.payload.get("approval_request_id") is not None and proposal_id not in open_ids:
            open_ids.append(event.text("proposal_id"))
    elif event.type in ("case.proposal_declined", "case.risk_level_changed", "case.escalated"):
        open_ids = [p for p in open_ids if p != proposal_id]
    if event.type == "case.risk_level_changed":
        doc["risk_level"] = event.text("to_risk_level")
    if event.type == "case.escalated":
        doc["status"] = event.text("to_status")
    doc["open_proposal_ids"] = open_ids
    doc["open_proposals"] = len(open_ids)
