"""One function per query: read the active views, shape the answer, collect its refs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from caseledger.domain.shared.policy_rules import DEFAULT_POLICY_VERSION, DEFAULT_RULES, PolicyRules
from caseledger.projections.ports import ViewReader
from caseledger.projections.projection import tenant_key
from caseledger.projections.queries import actions
from caseledger.projections.queries.views import (
    CaseAgentContextView,
    CaseDashboardItem,
    CaseDashboardView,
    CaseSummaryView,
    EvidenceHit,
    NoticeDraftView,
    PendingApproval,
)
from caseledger.projections.rows import Row

if TYPE_CHECKING:
    from caseledger.projections.queries.service import Answer, Question

SNIPPET_CHARS: Final = 400


def case_summary(reader: ViewReader, question: Question) -> Answer:
    row = reader.get("case_summary", question.tenant_id, _case_key(question))
    if row is None:
        return None, []
    doc = row.document
    view = CaseSummaryView(
        case_id=doc["case_id"],
        status=doc["status"],
        risk_level=doc.get("risk_level"),
        assigned_team=doc.get("assigned_team"),
        evidence_count=doc.get("evidence_count", 0),
        evidence_approved=doc.get("evidence_approved", 0),
        open_proposals=doc.get("open_proposals", 0),
        last_updated_at=doc.get("last_updated_at"),
        version=doc["version"],
        as_of_position=row.position,
        source_refs=list(doc.get("source_refs", [])),
    )
    return {"case_summary": view.model_dump()}, view.source_refs


def dashboard(reader: ViewReader, question: Question) -> Answer:
    payload = question.payload
    filters = {
        name: value
        for name, value in (
            ("status", payload.status),
            ("risk_level", payload.risk_level),
            ("assigned_team", payload.assigned_team),
        )
        if value is not None
    }
    page = reader.find("case_summary", question.tenant_id, filters, payload.limit, payload.offset)
    items = [
        CaseDashboardItem(
            case_id=r.document["case_id"],
            status=r.document["status"],
            risk_level=r.document.get("risk_level"),
            assigned_team=r.document.get("assigned_team"),
            evidence_count=r.document.get("evidence_count", 0),
            open_proposals=r.document.get("open_proposals", 0),
            last_updated_at=r.document.get("last_updated_at"),
            version=r.document["version"],
        )
        for r in page.rows
    ]
    view = CaseDashboardView(items=items, next_offset=page.next_offset)
    return {"case_dashboard": view.model_dump()}, [_last_ref(r) for r in page.rows]


def agent_context(reader: ViewReader, question: Question) -> Answer:
    row = reader.get("case_agent_context", question.tenant_id, _case_key(question))
    if row is None:
        return None, []
    policy, policy_version = _policy(reader, question.tenant_id)
    doc = row.document
    evidence = doc.get("evidence", {})
    view = CaseAgentContextView(
        case_id=doc["case_id"],
        status=doc["status"],
        risk_level=doc.get("risk_level"),
        allegation_summary=doc.get("allegation_summary", ""),
        key_evidence_refs=actions.approved_evidence(doc),
        missing_evidence=actions.missing_evidence(doc, policy),
        recent_events=[f"{e['type']} {e['ref']}" for e in doc.get("recent_events", [])],
        allowed_actions=actions.allowed_actions(doc, policy, question.caller),
        policy_notes=actions.policy_notes(policy, policy_version),
        open_proposals=[{"proposal_id": k, **v} for k, v in doc.get("open_proposals", {}).items()],
        briefs=list(doc.get("briefs", [])),
        policy_version=policy_version,
        version=doc["version"],
        as_of_position=row.position,
        source_refs=list(doc.get("source_refs", [])),
    )
    data = view.model_dump()
    data["evidence"] = {
        k: {"title": v.get("title"), "status": v.get("status"), "ref": v.get("ref")}
        for k, v in evidence.items()
    }
    return {"case_agent_context": data}, view.source_refs


def evidence(reader: ViewReader, question: Question) -> Answer:
    payload = question.payload
    found = reader.search("evidence_search", question.tenant_id, payload.text, payload.limit)
    hits = [
        EvidenceHit(
            case_id=h.row.document["case_id"],
            evidence_id=h.row.document["evidence_id"],
            title=h.row.document["title"],
            snippet=str(h.row.document.get("text", ""))[:SNIPPET_CHARS],
            score=h.score,
            source_ref=h.row.document.get("source_ref"),
            refs=list(h.row.document.get("source_refs", [])),
        )
        for h in found
    ]
    refs = [ref for hit in hits for ref in hit.refs]
    return {"evidence": [h.model_dump() for h in hits]}, refs


def pending_approvals(reader: ViewReader, question: Question) -> Answer:
    payload = question.payload
    filters = {
        name: value
        for name, value in (("kind", payload.kind), ("case_id", payload.case_id))
        if value is not None
    }
    page = reader.find(
        "pending_approvals", question.tenant_id, filters, payload.limit, payload.offset
    )
    items = [_pending(r) for r in page.rows]
    data = {"pending_approvals": [i.model_dump() for i in items], "next_offset": page.next_offset}
    return data, [_last_ref(r) for r in page.rows]


def notice_drafts(reader: ViewReader, question: Question) -> Answer:
    payload = question.payload
    page = reader.find(
        "notice_drafts",
        question.tenant_id,
        {"case_id": payload.case_id},
        payload.limit,
        payload.offset,
    )
    drafts = [
        NoticeDraftView(
            draft_id=r.document["draft_id"],
            case_id=r.document["case_id"],
            status=r.document["status"],
            recipient=r.document["recipient"],
            subject=r.document["subject"],
            content_version=r.document.get("content_version"),
            digest=r.document["digest"],
            approval_request_id=r.document.get("approval_request_id"),
            approval_id=r.document.get("approval_id"),
            send_request_id=r.document.get("send_request_id"),
            version=r.document["version"],
            refs=list(r.document.get("source_refs", [])),
        )
        for r in page.rows
    ]
    data = {"notice_drafts": [d.model_dump() for d in drafts], "next_offset": page.next_offset}
    return data, [ref for d in drafts for ref in d.refs[-3:]]


def _pending(row: Row) -> PendingApproval:
    doc = row.document
    known = {
        "kind",
        "case_id",
        "subject_id",
        "approval_request_id",
        "digest",
        "requested_by",
        "policy_version",
        "requested_at",
        "source_refs",
        "version",
        "as_of_position",
    }
    return PendingApproval(
        kind=doc["kind"],
        case_id=doc["case_id"],
        subject_id=doc["subject_id"],
        approval_request_id=doc["approval_request_id"],
        digest=doc["digest"],
        requested_by=doc["requested_by"],
        policy_version=doc["policy_version"],
        requested_at=doc.get("requested_at"),
        details={k: v for k, v in doc.items() if k not in known},
        refs=list(doc.get("source_refs", [])),
    )


def _policy(reader: ViewReader, tenant_id: str) -> tuple[PolicyRules, str]:
    """The tenant's policy in force; the default (seed §5) until one is published."""
    row = reader.get("tenant_policies", tenant_id, tenant_id)
    if row is None:
        return DEFAULT_RULES, DEFAULT_POLICY_VERSION
    try:
        return PolicyRules.model_validate(row.document.get("rules", {})), str(
            row.document["policy_version"]
        )
    except ValidationError:
        return DEFAULT_RULES, f"{row.document.get('policy_version')} (unreadable; default applied)"


def _case_key(question: Question) -> str:
    return tenant_key(question.tenant_id, question.payload.case_id)


def _last_ref(row: Row) -> str:
    refs: list[Any] = list(row.document.get("source_refs", []))
    return str(refs[-1]) if refs else f"{row.key}@{row.position}"
