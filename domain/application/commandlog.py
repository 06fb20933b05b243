"""The audit record of commands that were not accepted (rejected, conflict, validation error,
requires approval): who tried what, under which policy version, and why. One stream per
tenant, `commandlog-<tenant>` (the token's tenant: a request naming another one is recorded
where its caller can be found). Accepted commands are audited by their events' metadata."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import orjson

from caseledger.domain.application.codec import roles_text
from caseledger.domain.application.ports import ANY, EventStore, NewEvent
from caseledger.domain.shared import streams
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.errors import MAX_REASON, clip
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.ids import derived_uuid
from caseledger.domain.shared.outcomes import CommandOutcome

MAX_ID: Final = 200
QUERY_PREFIX: Final = "query:"
"""Recorded command types of refused queries start with it (`query:get_case_summary`)."""
"""Characters of an id, type or name a record keeps (the envelope's own bound)."""

AUDITED: Final = frozenset(
    {
        CommandOutcome.REJECTED,
        CommandOutcome.CONFLICT,
        CommandOutcome.VALIDATION_ERROR,
        CommandOutcome.REQUIRES_APPROVAL,
    }
)


class CommandNotAccepted(DomainEvent):
    event_type = "commandlog.command_not_accepted"
    command_id: str
    command_type: str
    outcome: CommandOutcome
    reason_code: str | None
    reason: str | None
    actor_type: str
    actor_id: str
    run_id: str | None
    stream_id: str | None
    expected_version: int | None
    idempotency_key: str
    policy_version: str | None


def commandlog_stream(tenant_id: str) -> str:
    return streams.tenant_stream(streams.COMMAND_LOG, tenant_id)


@dataclass(frozen=True)
class Refusal:
    """A bounded summary of a request not accepted: who tried what, how it was answered and
    why. Never the payload; every text cut to its bound (`record` cuts again), so no record
    can come near the store's event limit."""

    tenant_id: str
    actor_type: str
    actor_id: str
    run_id: str | None
    command_id: str
    command_type: str
    outcome: CommandOutcome
    reason_code: str | None
    reason: str | None
    stream_id: str | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None
    policy_version: str | None = None
    correlation_id: str | None = None
    thread_id: str | None = None
    actor_roles: frozenset[str] = frozenset()
    """A user's roles (metadata `actorRoles`): what a what-if re-checks approver roles with."""

    @classmethod
    def of(cls, envelope: CommandEnvelope, result: CommandResult) -> Refusal:
        return cls(
            tenant_id=envelope.tenant_id,
            actor_type=envelope.requested_by_actor_type.value,
            actor_id=envelope.requested_by_actor_id,
            run_id=envelope.run_id,
            command_id=envelope.command_id,
            command_type=envelope.command_type,
            outcome=result.status,
            reason_code=result.reason_code.value if result.reason_code else None,
            reason=result.reason,
            stream_id=result.stream_id,
            expected_version=envelope.expected_aggregate_version,
            idempotency_key=envelope.idempotency_key,
            policy_version=envelope.policy_version,
            correlation_id=envelope.correlation_id,
            thread_id=envelope.thread_id,
            actor_roles=frozenset(role.value for role in envelope.requested_by_roles),
        )


def record_not_accepted(
    store: EventStore, envelope: CommandEnvelope, result: CommandResult, at: datetime
) -> None:
    """Append the audit record of `result` if it is not an acceptance."""
    if result.status in AUDITED:
        record(store, Refusal.of(envelope, result), at)


def record(store: EventStore, refusal: Refusal, at: datetime) -> None:
    """Append `refusal` to its tenant's command log; the same command refused the same way is
    recorded once (the event id is derived from command id, outcome and reason code)."""
    event = CommandNotAccepted(
        command_id=_cut(refusal.command_id),
        command_type=_cut(refusal.command_type),
        outcome=refusal.outcome,
        reason_code=_cut_or_none(refusal.reason_code),
        reason=None if refusal.reason is None else clip(refusal.reason, MAX_REASON),
        actor_type=_cut(refusal.actor_type),
        actor_id=_cut(refusal.actor_id),
        run_id=_cut_or_none(refusal.run_id),
        stream_id=_cut_or_none(refusal.stream_id),
        expected_version=refusal.expected_version,
        idempotency_key=_cut(refusal.idempotency_key or refusal.command_id),
        policy_version=_cut_or_none(refusal.policy_version),
    )
    metadata = {
        "$correlationId": _cut(refusal.correlation_id or refusal.command_id),
        "$causationId": event.command_id,
        "tenantId": refusal.tenant_id,
        "actorType": event.actor_type,
        "actorId": event.actor_id,
        "actorRoles": roles_text(refusal.actor_roles) or None,
        "runId": event.run_id,
        "threadId": _cut_or_none(refusal.thread_id),
        "commandId": event.command_id,
        "schemaVersion": event.schema_version,
        "payloadSchema": event.payload_schema(),
        "occurredAt": at.isoformat(),
    }
    event_id = derived_uuid(
        refusal.tenant_id, refusal.command_id, refusal.outcome.value, str(refusal.reason_code)
    )
    store.append(
        commandlog_stream(refusal.tenant_id),
        [
            NewEvent(
                type=event.event_type,
                data=orjson.dumps(event.payload()),
                metadata=orjson.dumps(metadata),
                id=event_id,
            )
        ],
        ANY,
    )


def _cut(text: str) -> str:
    return clip(text, MAX_ID)


def _cut_or_none(text: str | None) -> str | None:
    return None if text is None else clip(text, MAX_ID)
