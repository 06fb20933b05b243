"""Loading an aggregate: fold its stream into state, and index the idempotency keys its events
carry, so a retried command is recognised across restarts and concurrent duplicates."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.codec import StoredEvent, read_recorded
from caseledger.domain.application.ports import NO_STREAM, EventStore
from caseledger.domain.shared.events import EventRegistry

S = TypeVar("S")

IdempotencyScope = tuple[str, str]
"""(actor key, idempotency key); the tenant is the stream's."""


@dataclass(frozen=True)
class IdempotencyRecord:
    """What one command wrote: its digest, how it was answered, and its events."""

    command_id: str
    command_digest: str
    outcome: str
    events: tuple[StoredEvent, ...] = ()


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
    start = Loaded(aggregate, stream, aggregate.initial_state(), NO_STREAM, {})
    return fold(start, history), history


def fold(loaded: Loaded[S], newer: list[StoredEvent]) -> Loaded[S]:
    """`loaded` moved forward over `newer` (the events after its revision); `loaded` itself
    is left as it was."""
    if not newer:
        return loaded
    state = loaded.state
    keys = dict(loaded.keys)
    for stored in newer:
        state = loaded.aggregate.evolve(state, stored.event)
        _index(keys, stored)
    return Loaded(loaded.aggregate, loaded.stream, state, newer[-1].recorded.revision, keys)


def _index(keys: dict[IdempotencyScope, IdempotencyRecord], stored: StoredEvent) -> None:
    meta: dict[str, Any] = stored.metadata
    key = meta.get("idempotencyKey")
    if not key:
        return
    scope = (f"{meta.get('actorType')}:{meta.get('actorId')}", str(key))
    record = keys.get(scope)
    if record is not None and record.command_id == meta.get("commandId"):
        keys[scope] = replace(record, events=(*record.events, stored))
        return
    keys[scope] = IdempotencyRecord(
        command_id=str(meta.get("commandId")),
        command_digest=str(meta.get("commandDigest")),
        outcome=str(meta.get("outcome", "accepted")),
        events=(stored,),
    )


class AggregateCache:
    """Keeps recently loaded aggregates and reads only the events after the cached revision,
    so a command on a long stream costs what it costs on a short one. Entries are immutable;
    the newest revision wins; the least recently used entries go first."""

    def __init__(self, store: EventStore, registry: EventRegistry, capacity: int = 10_000) -> None:
        self._store, self._registry, self._capacity = store, registry, capacity
        self._entries: OrderedDict[str, Loaded[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, aggregate: Aggregate[S], stream: str) -> Loaded[S]:
        with self._lock:
            cached = self._entries.get(stream)
        if cached is None or cached.aggregate is not aggregate:
            cached = Loaded(aggregate, stream, aggregate.initial_state(), NO_STREAM, {})
        newer = self._store.read_stream(stream, cached.revision + 1)
        loaded: Loaded[S] = fold(cached, [read_recorded(r, self._registry) for r in newer])
        self._keep(loaded)
        return loaded

    def _keep(self, loaded: Loaded[Any]) -> None:
        with self._lock:
            current = self._entries.get(loaded.stream)
            if current is None or current.revision <= loaded.revision:
                self._entries[loaded.stream] = loaded
            self._entries.move_to_end(loaded.stream)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
