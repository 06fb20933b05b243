"""The audit record of commands that were not accepted (rejected, conflict, validation error,
requires approval): who tried what, under which policy version, and why. One stream per
tenant, `commandlog-<tenant>`. Accepted commands are audited by their events' metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import orjson

from caseledger.domain.application.ports import ANY, EventStore, NewEvent
from caseledger.domain.shared import streams
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.ids import derived_uuid
from caseledger.domain.shared.outcomes import CommandOutcome

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


def record_not_accepted(
    store: EventStore, envelope: CommandEnvelope, result: CommandResult, at: datetime
) -> None:
    """Append the audit record; the same command answered the same way is recorded once."""
    if result.status not in AUDITED:
        return
    record = CommandNotAccepted(
        command_id=envelope.command_id,
        command_type=envelope.command_type,
        outcome=result.status,
        reason_code=result.reason_code.value if result.reason_code else None,
        reason=result.reason,
        actor_type=envelope.requested_by_actor_type.value,
        actor_id=envelope.requested_by_actor_id,
        run_id=envelope.run_id,
        stream_id=result.stream_id,
        expected_version=envelope.expected_aggregate_version,
        idempotency_key=envelope.idempotency_key,
        policy_version=envelope.policy_version,
    )
    metadata = {
        "$correlationId": envelope.correlation_id,
        "$causationId": envelope.command_id,
        "tenantId": envelope.tenant_id,
        "actorType": record.actor_type,
        "actorId": record.actor_id,
        "runId": envelope.run_id,
        "threadId": envelope.thread_id,
        "commandId": envelope.command_id,
        "schemaVersion": record.schema_version,
        "payloadSchema": record.payload_schema(),
        "occurredAt": at.isoformat(),
    }
    event_id = derived_uuid(
        envelope.tenant_id, envelope.command_id, result.status.value, str(result.reason_code)
    )
    store.append(
        commandlog_stream(envelope.tenant_id),
        [
            NewEvent(
                type=record.event_type,
                data=orjson.dumps(record.payload()),
                metadata=orjson.dumps(metadata),
                id=event_id,
            )
        ],
        ANY,
    )
