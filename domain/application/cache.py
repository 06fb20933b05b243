"""The aggregates a service keeps between commands, and loading several at once.

A command needs its aggregate, its tenant's policy and sometimes a related case; `load_many`
reads all of them in one `read_streams` call (the store may run the reads concurrently), so a
command costs about one read round trip. A cached aggregate is read from its cached revision on.
An uncached one is read beside its latest snapshot: a short stream is done in that same round
trip; a long one is folded from the snapshot over the events after it (a second round trip).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.loading import Loaded, empty, fold
from caseledger.domain.application.ports import EventStore, RecordedEvent, StreamRead
from caseledger.domain.application.snapshots import SnapshotPolicy, restore, snapshot_stream
from caseledger.domain.shared.events import EventRegistry

S = TypeVar("S")

PROBE: Final = 4
"""A cold load reads a stream's first events beside its snapshot: a stream this short (a new
one, a tenant's policy) needs no second round trip. Small, because for a long stream the probe
is wasted work (about 0.2 ms an event through kurrentdbclient)."""


@dataclass(frozen=True)
class _Plan:
    start: Loaded[Any]
    """What the events read are folded onto: the cached entry, a snapshot, or the empty state."""
    cold: bool
    """Not cached: the first read was a probe of PROBE events beside the snapshot."""


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
                reads += [StreamRead(stream, 0, PROBE), StreamRead.last(snapshot_stream(stream))]
            else:
                plans.append(_Plan(empty(aggregate, stream), cold=False))
                reads.append(StreamRead(stream, 0))
        answers = iter(self._store.read_streams(reads))
        loaded = []
        rest: list[tuple[int, Loaded[Any], list[RecordedEvent]]] = []
        for n, plan in enumerate(plans):
            events = next(answers)
            if not plan.cold:
                loaded.append(self._fold(plan.start, events))
                continue
            newest_snapshot = next(answers)
            if len(events) < PROBE:
                loaded.append(self._fold(plan.start, events))
                continue
            loaded.append(plan.start)  # placeholder, replaced below
            rest.append((n, plan.start, events))
            found = restore(plan.start.aggregate, plan.start.stream, newest_snapshot)
            if found is not None and found.loaded.revision >= PROBE - 1:
                rest[-1] = (n, found.loaded, [])
        for n, folded in self._finish(rest):
            loaded[n] = folded
        for entry in loaded:
            self._keep(entry)
        return loaded

    def _finish(
        self, rest: list[tuple[int, Loaded[Any], list[RecordedEvent]]]
    ) -> list[tuple[int, Loaded[Any]]]:
        """Long cold streams: from a snapshot (checking the stream still holds the event it
        names at its revision), else on from the probe; a snapshot that fails the check is
        dropped and the stream read on from the probe."""
        if not rest:
            return []
        reads = [
            StreamRead(start.stream, probe[-1].revision + 1 if probe else start.revision)
            for _, start, probe in rest
        ]
        done: list[tuple[int, Loaded[Any]]] = []
        retry: list[tuple[int, Loaded[Any]]] = []
        for (n, start, probe), events in zip(rest, self._store.read_streams(reads), strict=True):
            if probe:
                done.append((n, self._fold(start, [*probe, *events])))
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
        """A snapshot of `stream` at `revision` was written: the next is due `every` later."""
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
