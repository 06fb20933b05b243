"""Loading an aggregate: fold its stream into state, and index the idempotency keys its events
carry, so a retried command is recognised across restarts and concurrent duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.chains import stored_link
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

    @classmethod
    def of(
        cls,
        command_id: str,
        command_digest: str,
        outcome: str,
        events: tuple[StoredEvent, ...],
        first_revision: int,
        last_revision: int,
    ) -> IdempotencyRecord:
        """The record without the frozen constructor's per-field setattr (folding and restoring
        a snapshot make one per command): every field is set here, directly."""
        record = object.__new__(cls)
        record.__dict__.update(
            command_id=command_id,
            command_digest=command_digest,
            outcome=outcome,
            events=events,
            first_revision=first_revision,
            last_revision=last_revision,
        )
        return record


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
    chain_link: str | None = None
    """The hash-chain link of the event at `revision` (`chains`); None: none (no event, or one
    written before chains), so the next event starts a chain."""

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
    is left as it was (state and key index are persistent: shared, never copied whole). The
    keys the batch writes are gathered in a plain dict and added to the index in one step."""
    if not newer:
        return loaded
    evolve = loaded.aggregate.evolve
    state = loaded.state
    keys: PMap[IdempotencyScope, IdempotencyRecord] = (
        loaded.keys if isinstance(loaded.keys, PMap) else PMap(loaded.keys.items())
    )
    written: dict[IdempotencyScope, IdempotencyRecord] = {}
    for stored in newer:
        state = evolve(state, stored.event)
        _index(keys, written, stored)
    last = newer[-1].recorded
    return replace(
        loaded,
        state=state,
        revision=last.revision,
        keys=keys.update(written),
        last_event_id=last.id,
        chain_link=stored_link(newer[-1].metadata),
    )


def _index(
    keys: PMap[IdempotencyScope, IdempotencyRecord],
    written: dict[IdempotencyScope, IdempotencyRecord],
    stored: StoredEvent,
) -> None:
    """Record `stored` under its idempotency key in `written` (which overrides `keys`)."""
    meta: dict[str, Any] = stored.metadata
    key = meta.get("idempotencyKey")
    if not key:
        return
    revision = stored.recorded.revision
    scope = (f"{meta.get('actorType')}:{meta.get('actorId')}", str(key))
    record = written.get(scope) or keys.get(scope)
    if record is not None and record.command_id == meta.get("commandId"):
        written[scope] = replace(record, events=(*record.events, stored), last_revision=revision)
        return
    written[scope] = IdempotencyRecord.of(
        str(meta.get("commandId")),
        str(meta.get("commandDigest")),
        str(meta.get("outcome", "accepted")),
        (stored,),
        revision,
        revision,
    )
