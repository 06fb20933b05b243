"""Loading an aggregate: fold its stream into state, and index the idempotency keys its events
carry, so a retried command is recognised across restarts and concurrent duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.codec import StoredEvent, read_recorded
from caseledger.domain.application.ports import NO_STREAM, EventStore
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.persistent import PMap

S = TypeVar("S")

IdempotencyScope = tuple[str, str]
"""(actor key, idempotency key); the tenant is the stream's."""


@dataclass(frozen=True)
class IdempotencyRecord:
    """What one command wrote: its digest, how it was answered, and its events (revisions
    `first_revision`..`last_revision` of the stream). A record restored from a snapshot carries
    no events: whoever answers a duplicate with it reads them back by revision."""

    command_id: str
    command_digest: str
    outcome: str
    events: tuple[StoredEvent, ...] = ()
    first_revision: int = NO_STREAM
    last_revision: int = NO_STREAM


@dataclass(frozen=True)
class Loaded(Generic[S]):
    aggregate: Aggregate[S]
    stream: str
    state: S
    revision: int
    """The stream's last revision; NO_STREAM (-1) when it does not exist."""
    keys: Mapping[IdempotencyScope, IdempotencyRecord]
    snapshot_revision: int = NO_STREAM
    """The revision of the newest snapshot this process knows of (NO_STREAM: none)."""
    last_event_id: uuid.UUID | None = None
    """The id of the event at `revision` (a snapshot names it, to be checked on load)."""

    @property
    def exists(self) -> bool:
        return self.revision != NO_STREAM

    @property
    def tenant_id(self) -> str | None:
        return self.aggregate.tenant_of(self.state)


def empty(aggregate: Aggregate[S], stream: str) -> Loaded[S]:
    """The aggregate before its stream's first event."""
    return Loaded(aggregate, stream, aggregate.initial_state(), NO_STREAM, PMap())


def load(
    store: EventStore,
    registry: EventRegistry,
    aggregate: Aggregate[S],
    stream: str,
    up_to_revision: int | None = None,
) -> tuple[Loaded[S], list[StoredEvent]]:
    """The aggregate as of `up_to_revision` (default: the head) and the events it was folded
    from: always from the events themselves, never a snapshot (replays for audits use this).
    Raises `EventDecodingError` rather than fold an event it cannot read."""
    limit = None if up_to_revision is None else up_to_revision + 1
    history = [read_recorded(r, registry) for r in store.read_stream(stream, 0, limit)]
    return fold(empty(aggregate, stream), history), history


def fold(loaded: Loaded[S], newer: list[StoredEvent]) -> Loaded[S]:
    """`loaded` moved forward over `newer` (the events after its revision); `loaded` itself
    is left as it was (state and key index are persistent: shared, never copied whole)."""
    if not newer:
        return loaded
    state = loaded.state
    keys: PMap[IdempotencyScope, IdempotencyRecord] = (
        loaded.keys if isinstance(loaded.keys, PMap) else PMap(loaded.keys.items())
    )
    for stored in newer:
        state = loaded.aggregate.evolve(state, stored.event)
        keys = _index(keys, stored)
    last = newer[-1].recorded
    return replace(loaded, state=state, revision=last.revision, keys=keys, last_event_id=last.id)


def _index(
    keys: PMap[IdempotencyScope, IdempotencyRecord], stored: StoredEvent
) -> PMap[IdempotencyScope, IdempotencyRecord]:
    meta: dict[str, Any] = stored.metadata
    key = meta.get("idempotencyKey")
    if not key:
        return keys
    revision = stored.recorded.revision
    scope = (f"{meta.get('actorType')}:{meta.get('actorId')}", str(key))
    record = keys.get(scope)
    if record is not None and record.command_id == meta.get("commandId"):
        more = replace(record, events=(*record.events, stored), last_revision=revision)
        return keys.set(scope, more)
    return keys.set(
        scope,
        IdempotencyRecord(
            command_id=str(meta.get("commandId")),
            command_digest=str(meta.get("commandDigest")),
            outcome=str(meta.get("outcome", "accepted")),
            events=(stored,),
            first_revision=revision,
            last_revision=revision,
        ),
    )
