"""The shapes queries answer with (seed §4, §14). Every view names the events it was built
from (`source_refs`: `stream@revision#event-id`), the stream revision it reflects (`version`)
and the `$all` position it is as of."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class Freshness(_View):
    """How current an answer is. `lag` is in `$all` positions (byte-like, not events);
    `reached` is False when a requested position was not reached within the wait bound."""

    view: str
    view_version: int
    as_of_position: int | None
    head_position: int | None
    lag: int | None
    requested_position: int | None = None
    reached: bool = True


class CaseSummaryView(_View):
    case_id: str
    status: str
    risk_level: str | None
    assigned_team: str | None
    evidence_count: int
    last_updated_at: str | None
    evidence_approved: int = 0
    open_proposals: int = 0
    version: int
    as_of_position: int
    source_refs: list[str] = Field(default_factory=list)


class CaseDashboardItem(_View):
    case_id: str
    status: str
    risk_level: str | None
    assigned_team: str | None
    evidence_count: int
    open_proposals: int
    last_updated_at: str | None
    version: int


class CaseDashboardView(_View):
    items: list[CaseDashboardItem]
    next_offset: int | None


class CaseAgentContextView(_View):
    case_id: str
    status: str
    risk_level: str | None
    allegation_summary: str
    key_evidence_refs: list[str]
    missing_evidence: list[str]
    recent_events: list[str]
    allowed_actions: list[str]
    policy_notes: list[str]
    open_proposals: list[dict[str, Any]]
    briefs: list[dict[str, Any]]
    policy_version: str
    version: int
    as_of_position: int
    source_refs: list[str] = Field(default_factory=list)


class EvidenceHit(_View):
    case_id: str
    evidence_id: str
    title: str
    snippet: str
    score: float
    source_ref: str | None
    refs: list[str]


class PendingApproval(_View):
    kind: str
    case_id: str
    subject_id: str
    approval_request_id: str
    digest: str
    requested_by: str
    policy_version: str
    requested_at: str | None
    details: dict[str, Any]
    refs: list[str]


class NoticeDraftView(_View):
    draft_id: str
    case_id: str
    status: str
    recipient: str
    subject: str
    content_version: int | None
    digest: str
    approval_request_id: str | None
    approval_id: str | None
    send_request_id: str | None
    version: int
    refs: list[str]
