"""Case commands: intentions, validated against these schemas before anything else."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from caseledger.domain.case.state import RiskLevel
from caseledger.domain.shared.commands import CommandBody
from caseledger.domain.shared.ids import Identifier

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
EvidenceRefs = Annotated[list[Identifier], Field(max_length=100)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class OpenCase(CommandBody):
    case_id: Identifier
    allegation_summary: LongText
    assigned_team: ShortText | None = None


class StartCaseReview(CommandBody):
    case_id: Identifier


class SubmitEvidence(CommandBody):
    case_id: Identifier
    evidence_id: Identifier
    title: ShortText
    text: LongText
    source_ref: ShortText | None = None


class ReviewEvidence(CommandBody):
    case_id: Identifier
    evidence_id: Identifier
    verdict: Literal["approve", "reject"]
    comment: ShortText | None = None


class ProposeRiskUpdate(CommandBody):
    case_id: Identifier
    proposed_risk_level: RiskLevel
    rationale: LongText
    evidence_refs: EvidenceRefs = Field(default_factory=list)
    confidence: Confidence


class ProposeCaseEscalation(CommandBody):
    case_id: Identifier
    rationale: LongText
    evidence_refs: EvidenceRefs = Field(default_factory=list)
    confidence: Confidence


class DecideProposal(CommandBody):
    case_id: Identifier
    approval_request_id: Identifier
    proposal_digest: ShortText
    decision: Literal["approve", "decline"]
    comment: ShortText | None = None


class CreateAnalystBrief(CommandBody):
    case_id: Identifier
    brief_id: Identifier
    title: ShortText
    body: LongText
    evidence_refs: EvidenceRefs = Field(default_factory=list)


class CloseCase(CommandBody):
    case_id: Identifier
    resolution: LongText


class DismissCase(CommandBody):
    case_id: Identifier
    reason: LongText


CaseCommand = (
    OpenCase
    | StartCaseReview
    | SubmitEvidence
    | ReviewEvidence
    | ProposeRiskUpdate
    | ProposeCaseEscalation
    | DecideProposal
    | CreateAnalystBrief
    | CloseCase
    | DismissCase
)
