"""Envelopes (seed §6-9, §15, §17): commands and queries carry operational metadata; events
carry the facts with tenant, actor, correlation and causation; results are values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseledger.domain.shared.actors import ActorType, Role
from caseledger.domain.shared.ids import LARGEST_STORED, IdempotencyKey, TenantId
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode

Token = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommandEnvelope(_Envelope):
    """A request to change state. `requested_by_roles` is set by the authenticated entry point
    from the user's identity; agents and the system carry none."""

    command_id: Token
    command_type: Token
    command_version: Token = "1"
    tenant_id: TenantId
    requested_by_actor_type: ActorType
    requested_by_actor_id: Token
    requested_by_roles: frozenset[Role] = frozenset()
    run_id: Token | None = None
    thread_id: Token | None = None
    correlation_id: Token
    causation_id: Token | None = None
    idempotency_key: IdempotencyKey
    expected_aggregate_version: int | None = Field(default=None, ge=-1, le=LARGEST_STORED)
    policy_version: Token | None = None
    payload_schema: Token
    payload: dict[str, Any]


class EventEnvelope(_Envelope):
    """A committed fact as the outside sees it; `stream_*` and `commit_position` are set once
    the store holds it."""

    event_id: str
    event_type: str
    event_version: str
    tenant_id: str
    aggregate_type: str
    aggregate_id: str
    correlation_id: str
    causation_id: str | None = None
    run_id: str | None = None
    thread_id: str | None = None
    actor_type: str
    actor_id: str
    payload_schema: str
    payload: dict[str, Any]
    occurred_at: datetime
    command_id: str | None = None
    command_type: str | None = None
    idempotency_key: str | None = None
    policy_version: str | None = None
    stream_id: str | None = None
    stream_revision: int | None = None
    commit_position: int | None = None


class CommandResult(_Envelope):
    """How a command was answered. `stream_revision` is the stream's revision after the command
    (the next expected version); `commit_position` lets a reader wait for its views."""

    command_id: str
    status: CommandOutcome
    events: list[EventEnvelope] = Field(default_factory=list)
    reason: str | None = None
    reason_code: ReasonCode | None = None
    stream_id: str | None = None
    stream_revision: int | None = None
    commit_position: int | None = None
    approval_request_id: str | None = None
    original_outcome: CommandOutcome | None = None


class CommandProposal(_Envelope):
    """What an agent wants done (§15); it becomes a `propose_*` command, never a commit."""

    proposal_id: Token
    run_id: Token
    agent_name: Token
    proposed_command_type: Token
    payload: dict[str, Any]
    rationale: str
    evidence_refs: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    requires_human_review_reason: str | None = None


class QueryEnvelope(_Envelope):
    """A request to read (§8): authorized, tenant-scoped, side-effect free."""

    query_id: Token
    query_type: Token
    query_version: Token = "1"
    tenant_id: TenantId
    requested_by_actor_type: ActorType
    requested_by_actor_id: Token
    requested_by_roles: frozenset[Role] = frozenset()
    run_id: Token | None = None
    correlation_id: Token
    payload_schema: Token
    payload: dict[str, Any]


class QueryResult(_Envelope):
    """A bounded, source-referenced answer (§8)."""

    query_id: str
    status: str
    data: dict[str, Any] | None = None
    source_refs: list[str] = Field(default_factory=list)
    error_message: str | None = None
