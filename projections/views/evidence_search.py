"""Evidence rows for the agents' full-text search: one row per evidence item with its
verdict. Only approved evidence is searchable; the store's index enforces it (FTS5 triggers /
a partial tsvector index) and the search query filters on it too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from caseledger.projections.events import ProjectedEvent
from caseledger.projections.projection import (
    Projection,
    RowLookup,
    document_of,
    existing,
    put,
    tenant_key,
)
from caseledger.projections.rows import RowChange, Scalar

_VERDICTS = {"case.evidence_approved": "approved", "case.evidence_rejected": "rejected"}


def evidence_key(tenant_id: str, case_id: str, evidence_id: str) -> str:
    return tenant_key(tenant_id, f"{case_id}/{evidence_id}")


class EvidenceSearchProjection(Projection):
    """Rule: evidence becomes searchable when approved and stops being when rejected."""

    name: ClassVar[str] = "evidence_search"
    version: ClassVar[int] = 2
    """v2: the same rows; its storage computes the search vector for approved rows only (v1
    computed it for every row), so deployments serving v1 rebuild to it beside v1."""
    columns: ClassVar[tuple[str, ...]] = ("case_id", "status", "title", "body")
    handles: ClassVar[frozenset[str]] = frozenset({"case.evidence_submitted", *_VERDICTS})
    categories: ClassVar[frozenset[str]] = frozenset({"case"})
    ignores: ClassVar[frozenset[str]] = frozenset(
        {
            "case.opened",
            "case.review_started",
            "case.analyst_brief_created",
            "case.risk_update_proposed",
            "case.escalation_proposed",
            "case.proposal_reevaluated",
            "case.proposal_declined",
            "case.risk_level_changed",
            "case.escalated",
            "case.closed",
            "case.dismissed",
        }
    )
    searchable: ClassVar[bool] = True

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        if event.type == "case.evidence_submitted":
            return []
        return [evidence_key(event.tenant_id, event.text("case_id"), event.text("evidence_id"))]

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        case_id = event.text("case_id")
        key = evidence_key(event.tenant_id, case_id, event.text("evidence_id"))
        if event.type == "case.evidence_submitted":
            doc = {
                "case_id": case_id,
                "evidence_id": event.text("evidence_id"),
                "title": event.text("title"),
                "text": event.text("text"),
                "source_ref": event.optional_text("source_ref"),
                "status": "submitted",
            }
            return [put(event, key, doc, self._columns(doc))]
        previous = existing(rows, key, event)
        doc = document_of(previous)
        doc["status"] = _VERDICTS[event.type]
        return [put(event, key, doc, self._columns(doc), previous)]

    @staticmethod
    def _columns(doc: Mapping[str, object]) -> dict[str, Scalar]:
        return {
            "case_id": str(doc["case_id"]),
            "status": str(doc["status"]),
            "title": str(doc["title"]),
            "body": str(doc["text"]),
        }
