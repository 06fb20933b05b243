"""The aggregates a service keeps between commands, and loading several at once.

A command needs its aggregate, its tenant's policy and sometimes a related case; `load_many`
reads all of them in one `read_streams` call (the store may run the reads concurrently), so a
command costs about one read round trip. A cached aggregate is read from its cached revision on.
An uncached one is read as its newest events (the policy's window) beside its latest snapshot,
so one round trip does for a short stream (read whole) and for a long one whose snapshot is in
the window (folded from the snapshot over the events after it); only a stream whose snapshot is
missing, unusable or further back needs a second.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.loading import Loaded, empty, fold
from caseledger.domain.application.ports import EventStore, RecordedEvent, StreamRead
from caseledger.domain.application.snapshots import (
    Restored,
    SnapshotPolicy,
    restore,
    snapshot_stream,
)
from caseledger.domain.shared.events import EventRegistry

S = TypeVar("S")


@dataclass(frozen=True)
class _Plan:
    start: Loaded[Any]
    """What the events read are folded onto: the cached entry, a snapshot, or the empty state."""
    cold: bool
    """Not cached: the first read was the stream's newest events beside its snapshot."""


class AggregateCache:
    """Keeps recently loaded aggregates (least recently used go first) and reads only the events
    after the cached revision, so a command on a long stream costs what it costs on a short one.
    Entries are immutable; the newest revision wins. With a `SnapshotPolicy`, an uncached
    aggregate starts from its latest usable snapshot."""

    def __init__(
        self,
        store: EventStore,
        registry: EventRegistry,
        capacity: int = 10_000,
        snapshots: SnapshotPolicy | None = None,
    ) -> None:
        self._store, self._registry, self._capacity = store, registry, capacity
        self._snapshots = snapshots if snapshots and snapshots.every > 0 else None
        self._window = self._snapshots.window if self._snapshots else 0
        self._entries: OrderedDict[str, Loaded[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, aggregate: Aggregate[S], stream: str) -> Loaded[S] | None:
        """The entry held for `stream` (possibly behind the store), without reading."""
        with self._lock:
            entry = self._entries.get(stream)
        return entry if entry is not None and entry.aggregate is aggregate else None

    def load(self, aggregate: Aggregate[S], stream: str) -> Loaded[S]:
        loaded: Loaded[S] = self.load_many([(aggregate, stream)])[0]
        return loaded

    def load_many(self, wanted: Sequence[tuple[Aggregate[Any], str]]) -> list[Loaded[Any]]:
        """Each (aggregate, stream) as of its read, in order; each read is its own (the store
        may run them concurrently): staleness between them is the caller's to accept. Raises
        `EventDecodingError` rather than fold an event it cannot read."""
        plans, reads = [], []
        for aggregate, stream in wanted:
            hit = self.cached(aggregate, stream)
            if hit is not None:
                plans.append(_Plan(hit, cold=False))
                reads.append(StreamRead(stream, hit.revision + 1))
            elif self._snapshots is not None:
                plans.append(_Plan(empty(aggregate, stream), cold=True))
                newest = StreamRead(stream, limit=self._window, backwards=True)
                reads += [newest, StreamRead.last(snapshot_stream(stream))]
            else:
                plans.append(_Plan(empty(aggregate, stream), cold=False))
                reads.append(StreamRead(stream, 0))
        answers = iter(self._store.read_streams(reads))
        loaded = []
        rest: list[tuple[int, Loaded[Any]]] = []
        for n, plan in enumerate(plans):
            events = next(answers)
            if not plan.cold:
                loaded.append(self._fold(plan.start, events))
                continue
            entry, complete = self._cold(plan.start, events, next(answers))
            loaded.append(entry)  # if not complete, a placeholder replaced below
            if not complete:
                rest.append((n, entry))
        for n, folded in self._finish(rest):
            loaded[n] = folded
        for entry in loaded:
            self._keep(entry)
        return loaded

    def _cold(
        self, start: Loaded[S], newest: list[RecordedEvent], snapshot: list[RecordedEvent]
    ) -> tuple[Loaded[S], bool]:
        """An uncached aggregate from the stream's newest events (newest first, at most the
        window) and its latest snapshot: (the aggregate, True) if they suffice; else (what a
        second read goes on from, False): a usable-looking snapshot further back than the
        window, or the empty state."""
        events = newest[::-1]
        found = restore(start.aggregate, start.stream, snapshot)
        if found is not None:
            after = _after_snapshot(found, events)
            if after is not None:
                return self._fold(found.loaded, after), True
        if len(events) < self._window:  # the whole stream
            return self._fold(start, events), True
        if found is not None and found.loaded.revision < events[0].revision:
            return found.loaded, False
        return start, False

    def _finish(self, rest: list[tuple[int, Loaded[Any]]]) -> list[tuple[int, Loaded[Any]]]:
        """Cold streams longer than the window: from a snapshot further back (checking the
        stream still holds the event it names at its revision), else from the start; a
        snapshot that fails the check is dropped and the stream read from its start."""
        if not rest:
            return []
        reads = [StreamRead(start.stream, max(start.revision, 0)) for _, start in rest]
        done: list[tuple[int, Loaded[Any]]] = []
        retry: list[tuple[int, Loaded[Any]]] = []
        for (n, start), events in zip(rest, self._store.read_streams(reads), strict=True):
            if not start.exists:
                done.append((n, self._fold(start, events)))
            elif events and events[0].id == start.last_event_id:
                done.append((n, self._fold(start, events[1:])))
            else:
                retry.append((n, empty(start.aggregate, start.stream)))
        if retry:
            reads = [StreamRead(start.stream) for _, start in retry]
            for (n, start), events in zip(retry, self._store.read_streams(reads), strict=True):
                done.append((n, self._fold(start, events)))
        return done

    def noted_snapshot(self, stream: str, revision: int) -> None:
        """A snapshot of `stream` at `revision` was written: the next is due a `gap` later."""
        with self._lock:
            entry = self._entries.get(stream)
            if entry is not None and entry.snapshot_revision < revision <= entry.revision:
                self._entries[stream] = replace(entry, snapshot_revision=revision)

    def _fold(self, start: Loaded[S], events: list[RecordedEvent]) -> Loaded[S]:
        return fold(start, [read_recorded(r, self._registry) for r in events])

    def keep(self, loaded: Loaded[Any]) -> None:
        """Hold `loaded` (e.g. an aggregate moved on by the caller's own append) unless a newer
        entry is held already."""
        self._keep(loaded)

    def _keep(self, loaded: Loaded[Any]) -> None:
        with self._lock:
            current = self._entries.get(loaded.stream)
            if current is None or current.revision <= loaded.revision:
                self._entries[loaded.stream] = loaded
            self._entries.move_to_end(loaded.stream)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


def _after_snapshot(found: Restored, events: list[RecordedEvent]) -> list[RecordedEvent] | None:
    """The events after `found`'s revision if `events` (consecutive, oldest first) hold the
    event the snapshot names at its revision; None if they do not reach back to it, or the
    stream holds another event there (the snapshot is not of this stream's history)."""
    if not events:
        return None
    at = found.loaded.revision - events[0].revision
    if not 0 <= at < len(events) or events[at].revision != found.loaded.revision:
        return None
    return events[at + 1 :] if events[at].id == found.event_id else None
