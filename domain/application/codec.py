"""How events are stored: type = stable name, data = payload JSON, metadata = JSON in
KurrentDB's conventions (`$correlationId`, `$causationId`) plus tenant, actor, run, thread,
command, idempotency key, policy version and schema (docs/catalogue.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from caseledger.domain.application.ports import NewEvent, RecordedEvent
from caseledger.domain.shared.envelopes import CommandEnvelope, EventEnvelope
from caseledger.domain.shared.errors import EventDecodingError, UnreadableEvent
from caseledger.domain.shared.events import DomainEvent, EventRegistry


@dataclass(frozen=True)
class Provenance:
    """Who and what caused a batch of events: the same for every event of one command."""

    envelope: CommandEnvelope
    aggregate_type: str
    aggregate_id: str
    command_digest: str
    outcome: str
    policy_version: str
    occurred_at: datetime
    facts_read: dict[str, int]

    def metadata(self, event: DomainEvent) -> dict[str, str]:
        """Every value a string and absent values left out: KurrentDB's AppendRecords carries
        metadata as string properties. Readers take `schemaVersion` as a string or, from
        events written before, a number."""
        env = self.envelope
        fields = {
            "$correlationId": env.correlation_id,
            "$causationId": env.command_id,
            "tenantId": env.tenant_id,
            "aggregateType": self.aggregate_type,
            "aggregateId": self.aggregate_id,
            "actorType": env.requested_by_actor_type.value,
            "actorId": env.requested_by_actor_id,
            "actorRoles": roles_text(env.requested_by_roles),
            "runId": env.run_id,
            "threadId": env.thread_id,
            "commandId": env.command_id,
            "commandType": env.command_type,
            "commandCausationId": env.causation_id,
            "idempotencyKey": env.idempotency_key,
            "commandDigest": self.command_digest,
            "outcome": self.outcome,
            "policyVersion": self.policy_version,
            "schemaVersion": str(event.schema_version),
            "payloadSchema": event.payload_schema(),
            "occurredAt": self.occurred_at.isoformat(),
            "factsRead": ",".join(f"{s}@{r}" for s, r in sorted(self.facts_read.items())),
        }
        return {key: value for key, value in fields.items() if value}


def roles_text(roles: Iterable[str]) -> str:
    """A user's roles as metadata carries them: sorted, comma-separated (`reviewer,supervisor`);
    empty for agents and the system (then left out). What-if re-decisions read them back."""
    return ",".join(sorted(str(role) for role in roles))


def roles_of(metadata: Mapping[str, Any]) -> frozenset[str] | None:
    """The roles `actorRoles` records, or None where the metadata has no such key (events
    written before roles were recorded, and every agent's or the system's)."""
    text = metadata.get("actorRoles")
    if not isinstance(text, str):
        return None
    return frozenset(role for role in text.split(",") if role)


def new_event(
    event: DomainEvent,
    event_id: uuid.UUID,
    metadata: dict[str, Any],
    payload: dict[str, Any] | None = None,
) -> NewEvent:
    """Data and metadata in the canonical form hash chains take (`chains.canonical`: sorted
    keys, no whitespace), so a link is one hash over the bytes written. `payload`: the
    event's `payload()`, when the caller has it already."""
    return NewEvent(
        type=event.event_type,
        data=orjson.dumps(
            event.payload() if payload is None else payload, option=orjson.OPT_SORT_KEYS
        ),
        metadata=orjson.dumps(metadata, option=orjson.OPT_SORT_KEYS),
        id=event_id,
    )


def recorded_as(event: NewEvent, stream: str, revision: int, commit_position: int) -> RecordedEvent:
    """`event` as the store now holds it, known from the append's answer without reading it
    back (the commit position is the append's: KurrentDB gives one per commit)."""
    return RecordedEvent(
        id=event.id,
        stream=stream,
        revision=revision,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=event.content_type,
        commit_position=commit_position,
    )


@dataclass(frozen=True)
class StoredEvent:
    """A recorded event read back: the domain fact (upcast) and its metadata."""

    recorded: RecordedEvent
    event: DomainEvent
    metadata: dict[str, Any]


def read_recorded(recorded: RecordedEvent, registry: EventRegistry) -> StoredEvent:
    """Decode `recorded`, or raise `UnreadableEvent` naming its stream and revision: an unknown
    type or schema version, data or metadata that does not decode, a `schemaVersion` that is
    not a whole number. Never mis-read."""
    try:
        metadata = _metadata(recorded.metadata)
        event = registry.decode_json(recorded.type, _schema_version(metadata), recorded.data)
    except EventDecodingError as error:
        where = recorded.stream, recorded.revision
        raise UnreadableEvent(*where, str(error), error.cause) from error
    return StoredEvent(recorded, event, metadata)


MAX_VERSION_DIGITS: Final = 18


def _metadata(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        metadata = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise EventDecodingError("its metadata is not JSON") from None
    if not isinstance(metadata, dict):
        raise EventDecodingError("its metadata is not a JSON object")
    return metadata


def _schema_version(metadata: dict[str, Any]) -> int:
    """`schemaVersion` as written: a string of digits, or (before 2026-11-25) a number."""
    version = metadata.get("schemaVersion", 1)
    if isinstance(version, bool) or not isinstance(version, int | str):
        raise EventDecodingError("its schemaVersion is not a whole number")
    digits = str(version).removeprefix("-")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= MAX_VERSION_DIGITS):
        raise EventDecodingError("its schemaVersion is not a whole number")
    return int(version)


def envelope_of(stored: StoredEvent) -> EventEnvelope:
    """The outside view of a stored event (payload at the current schema version)."""
    rec = stored.recorded
    return envelope_for(
        stored.event, rec.id, stored.metadata, rec.stream, rec.revision, rec.commit_position
    )


def envelope_for(
    event: DomainEvent,
    event_id: uuid.UUID,
    meta: dict[str, Any],
    stream: str,
    revision: int,
    commit_position: int | None = None,
    payload: dict[str, Any] | None = None,
) -> EventEnvelope:
    """`payload`: the event's `payload()`, when the caller has it already."""
    return EventEnvelope(
        event_id=str(event_id),
        event_type=event.event_type,
        event_version=str(event.schema_version),
        tenant_id=meta.get("tenantId", ""),
        aggregate_type=meta.get("aggregateType", ""),
        aggregate_id=meta.get("aggregateId", ""),
        correlation_id=meta.get("$correlationId", ""),
        causation_id=meta.get("$causationId"),
        run_id=meta.get("runId"),
        thread_id=meta.get("threadId"),
        actor_type=meta.get("actorType", ""),
        actor_id=meta.get("actorId", ""),
        payload_schema=event.payload_schema(),
        payload=event.payload() if payload is None else payload,
        occurred_at=meta["occurredAt"],
        command_id=meta.get("commandId"),
        command_type=meta.get("commandType"),
        idempotency_key=meta.get("idempotencyKey"),
        policy_version=meta.get("policyVersion"),
        stream_id=stream,
        stream_revision=revision,
        commit_position=commit_position,
    )
