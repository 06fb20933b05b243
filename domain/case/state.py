"""What a case remembers to decide: its lifecycle, evidence verdicts, briefs and proposals."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from caseledger.domain.shared.persistent import PMap, PSet


class CaseStatus(StrEnum):
    NEW = "new"
    """No stream yet."""
    OPENED = "opened"
    UNDER_REVIEW = "under_review"
    ESCALATED = "escalated"
    CLOSED = "closed"
    DISMISSED = "dismissed"


ACTIVE_STATUSES = frozenset({CaseStatus.OPENED, CaseStatus.UNDER_REVIEW, CaseStatus.ESCALATED})


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class EvidenceStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProposalKind(StrEnum):
    RISK_UPDATE = "risk_update"
    ESCALATION = "escalation"


class ProposalStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class Proposal:
    """A recommendation awaiting (or past) a decision bound to its digest and policy version."""

    proposal_id: str
    kind: ProposalKind
    digest: str
    approval_request_id: str | None
    policy_version: str
    proposed_by: str
    evidence_refs: tuple[str, ...]
    proposed_risk_level: RiskLevel | None = None
    status: ProposalStatus = ProposalStatus.OPEN


@dataclass(frozen=True)
class CaseState:
    """Immutable; its collections are persistent (`PMap`/`PSet`), so `evolve` shares them
    instead of copying them on every event."""

    case_id: str | None = None
    tenant_id: str | None = None
    status: CaseStatus = CaseStatus.NEW
    allegation_summary: str = ""
    assigned_team: str | None = None
    risk_level: RiskLevel | None = None
    evidence: PMap[str, EvidenceStatus] = field(default_factory=PMap)
    briefs: PSet[str] = field(default_factory=PSet)
    proposals: PMap[str, Proposal] = field(default_factory=PMap)
    approval_requests: PMap[str, str] = field(default_factory=PMap)
    """Every approval request ever opened -> its proposal id (renewed ones included)."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def open_proposals(self) -> list[Proposal]:
        return [p for p in self.proposals.values() if p.status is ProposalStatus.OPEN]

    def approved_evidence(self) -> list[str]:
        return [eid for eid, status in self.evidence.items() if status is EvidenceStatus.APPROVED]
