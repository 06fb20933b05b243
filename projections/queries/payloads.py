"""Query payloads (schema `<query_type>.v1`). Every limit is capped: answers are bounded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from caseledger.domain.shared.ids import LARGEST_STORED, Identifier


class QueryPayload(BaseModel):
    """`min_position`: read-your-writes — wait (at most `max_wait_ms`) until the view has
    reached this `$all` position, e.g. a command result's commit position."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_position: int | None = Field(default=None, ge=0, le=LARGEST_STORED)
    max_wait_ms: int = Field(default=1000, ge=0, le=5000)


class CaseQuery(QueryPayload):
    case_id: Identifier


class ListCases(QueryPayload):
    status: str | None = None
    risk_level: str | None = None
    assigned_team: str | None = None
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000)


class SearchEvidence(QueryPayload):
    text: str = Field(min_length=1, max_length=500)
    limit: int = Field(default=5, ge=1, le=20)


class ListPendingApprovals(QueryPayload):
    kind: str | None = None
    case_id: Identifier | None = None
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000)


class ListNoticeDrafts(QueryPayload):
    case_id: Identifier
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000)
