"""Loading an aggregate: fold its stream into state, and index the idempotency keys its events
carry, so a retried command is recognised across restarts and concurrent duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.codec import StoredEvent, read_recorded
from caseledger.domain.application.ports import NO_STREAM, EventStore
from caseledger.domain.shared.events import EventRegistry

S = TypeVar("S")

IdempotencyScope = tuple[str, str]
"""(actor key, idempotency key); the tenant is the stream's."""


@dataclass
class IdempotencyRecord:
    """What one command wrote: its digest, how it was answered, and its events."""

    command_id: str
    command_digest: str
    outcome: str
    events: list[StoredEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Loaded(Generic[S]):
    aggregate: Aggregate[S]
    stream: str
    state: S
    revision: int
    """The stream's last revision; NO_STREAM (-1) when it does not exist."""
    keys: dict[IdempotencyScope, IdempotencyRecord]

    @property
    def exists(self) -> bool:
        return self.revision != NO_STREAM

    @property
    def tenant_id(self) -> str | None:
        return self.aggregate.tenant_of(self.state)


def load(
    store: EventStore,
    registry: EventRegistry,
    aggregate: Aggregate[S],
    stream: str,
    up_to_revision: int | None = None,
) -> tuple[Loaded[S], list[StoredEvent]]:
    """The aggregate as of `up_to_revision` (default: the head) and the events it was folded
    from. Raises `EventDecodingError` rather than fold an event it cannot read."""
    limit = None if up_to_revision is None else up_to_revision + 1
    history = [read_recorded(r, registry) for r in store.read_stream(stream, 0, limit)]
    state = aggregate.initial_state()
    keys: dict[IdempotencyScope, IdempotencyRecord] = {}
    for stored in history:
        state = aggregate.evolve(state, stored.event)
        _index(keys, stored)
    revision = history[-1].recorded.revision if history else NO_STREAM
    return Loaded(aggregate, stream, state, revision, keys), history


def _index(keys: dict[IdempotencyScope, IdempotencyRecord], stored: StoredEvent) -> None:
    meta: dict[str, Any] = stored.metadata
    key = meta.get("idempotencyKey")
    if not key:
        return
    scope = (f"{meta.get('actorType')}:{meta.get('actorId')}", str(key))
    record = keys.get(scope)
    if record is None or record.command_id != meta.get("commandId"):
        record = IdempotencyRecord(
            command_id=str(meta.get("commandId")),
            command_digest=str(meta.get("commandDigest")),
            outcome=str(meta.get("outcome", "accepted")),
        )
        keys[scope] = record
    record.events.append(stored)
