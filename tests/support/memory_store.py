"""InMemoryEventStore: a fake of the EventStore port for pure unit tests only.

Same semantics as the real store: 0-based revisions, expected-version checks (a revision,
NO_STREAM, ANY, STREAM_EXISTS), idempotent appends by event id (the same ids at the same
expected version are written once and answered with the original result), increasing commit
positions, `$all` subscriptions that deliver past then live events until stopped from any
thread. Thread-safe: one lock, like a single writer. It passes the EventStore contract
(tests/contract/test_in_memory_event_store.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime

from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ChecksUnsupported,
    NewEvent,
    RecordedEvent,
    StreamRead,
    StreamWrite,
    WrongExpectedVersion,
)


class InMemoryEventStore:
    def __init__(self) -> None:
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._all: list[RecordedEvent] = []
        self._lock = threading.RLock()
        self._appended = threading.Condition(self._lock)
        """Notified under the lock whenever `$all` grows (live subscriptions wait on it)."""
        self._max_counts: dict[str, int] = {}
        self.appends = 0
        """Calls to `append` that reached the store (tests count writes with it)."""

    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        with self._lock:
            self.appends += 1
            existing = self._streams.get(stream, [])
            replayed = self._idempotent(existing, events, expected)
            if replayed is not None:
                return replayed
            actual = existing[-1].revision if existing else NO_STREAM
            if not _satisfies(expected, actual):
                raise WrongExpectedVersion(stream, expected, actual)
            for event in events:
                self._record(stream, event)
            last = self._streams.get(stream, [])
            return AppendResult(
                revision=last[-1].revision if last else NO_STREAM,
                commit_position=self._all[-1].commit_position if self._all else 0,
            )

    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        """The checks, `append` and the writes `also` under one lock: atomic, as
        AppendRecords is."""
        with self._lock:
            wanted = {**checks, **{w.stream: w.expected for w in also}}
            for checked, revision in wanted.items():
                existing = self._streams.get(checked, [])
                actual = existing[-1].revision if existing else NO_STREAM
                if not _satisfies(revision, actual):
                    raise WrongExpectedVersion(checked, revision, actual)
            if expected not in (ANY, STREAM_EXISTS):
                existing = self._streams.get(stream, [])
                actual = existing[-1].revision if existing else NO_STREAM
                if not _satisfies(expected, actual) and not self._idempotent(
                    existing, events, expected
                ):
                    raise WrongExpectedVersion(stream, expected, actual)
            for write in also:
                self.append(write.stream, write.events, write.expected)
            return self.append(stream, events, expected)  # last: the position is theirs

    def _idempotent(
        self, existing: list[RecordedEvent], events: Sequence[NewEvent], expected: int
    ) -> AppendResult | None:
        """The original result if these exact ids were already written after `expected`."""
        if not events:
            return None
        start = 0 if expected in (ANY, STREAM_EXISTS) else expected + 1
        ids = [e.id for e in events]
        if expected in (ANY, STREAM_EXISTS):
            positions = [i for i, r in enumerate(existing) if r.id == ids[0]]
            if not positions:
                return None
            start = positions[0]
        window = existing[start : start + len(ids)]
        if [r.id for r in window] != ids:
            return None
        return AppendResult(window[-1].revision, window[-1].commit_position)

    def _record(self, stream: str, event: NewEvent) -> None:
        records = self._streams.setdefault(stream, [])
        recorded = RecordedEvent(
            id=event.id,
            stream=stream,
            revision=len(records),
            type=event.type,
            data=event.data,
            metadata=event.metadata,
            content_type=event.content_type,
            commit_position=(self._all[-1].commit_position + 1) if self._all else 1,
            recorded_at=datetime.now(UTC),
        )
        records.append(recorded)
        self._all.append(recorded)
        self._appended.notify_all()

    def keep_latest(self, stream: str, count: int) -> None:
        with self._lock:
            self._max_counts[stream] = count

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        with self._lock:
            records = self._streams.get(stream, [])
            kept = self._max_counts.get(stream)
            first = max(from_revision, len(records) - kept if kept else 0)
            records = records[first:]
        return records if limit is None else records[:limit]

    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        """One after the other (through `read_stream`, so subclasses that slow it down slow
        these too)."""
        answers = []
        for request in requests:
            if request.backwards:
                newest_first = self.read_stream(request.stream)[::-1]
                answers.append(newest_first[: request.limit])
            else:
                answers.append(
                    self.read_stream(request.stream, request.from_revision, request.limit)
                )
        return answers

    def head_position(self, categories: Sequence[str] = ()) -> int:
        prefixes = tuple(f"{c}-" for c in categories)
        with self._lock:
            kept = [e for e in self._all if not prefixes or e.stream.startswith(prefixes)]
            return kept[-1].commit_position if kept else 0

    def subscribe_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> _LiveSubscription:
        return _LiveSubscription(self, from_position, tuple(categories))

    def streams(self) -> list[str]:
        with self._lock:
            return list(self._streams)


class _LiveSubscription:
    """`$all` after `from_position` (exclusive), then each event as it is appended, until
    `stop()` (from any thread) ends the iteration."""

    def __init__(
        self, store: InMemoryEventStore, from_position: int | None, categories: tuple[str, ...]
    ) -> None:
        self._store, self._from, self._categories = store, from_position or 0, categories
        self._stopped = False

    def __iter__(self) -> Iterator[RecordedEvent]:
        seen = 0
        while True:
            with self._store._appended:
                while not self._stopped and seen == len(self._store._all):
                    self._store._appended.wait()
                if self._stopped:
                    return
                fresh, seen = self._store._all[seen:], len(self._store._all)
            for event in fresh:
                if self._stopped:
                    return
                if event.commit_position > self._from and self._follows(event.stream):
                    yield event

    def _follows(self, stream: str) -> bool:
        return not self._categories or stream.split("-", 1)[0] in self._categories

    def stop(self) -> None:
        with self._store._appended:
            self._stopped = True
            self._store._appended.notify_all()


def _satisfies(expected: int, actual: int) -> bool:
    if expected == ANY:
        return True
    if expected == STREAM_EXISTS:
        return actual != NO_STREAM
    return expected == actual


class WithoutAtomicChecks:
    """Mixed in before a store fake: a store with no atomic checks, as KurrentDB before 26.1
    (no AppendRecords), so the service falls back to plain appends."""

    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        raise ChecksUnsupported("no AppendRecords here")


class Watched(InMemoryEventStore):
    """Counts read calls and remembers the checks of every checked append."""

    def __init__(self) -> None:
        super().__init__()
        self.read_calls = 0
        self.checked: list[tuple[str, int, dict[str, int]]] = []

    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        self.read_calls += 1
        return super().read_streams(requests)

    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        self.checked.append((stream, expected, dict(checks)))
        return super().append_checked(stream, events, expected, checks, also)


class WithoutChecks(WithoutAtomicChecks, Watched):
    """A store with no atomic checks, as KurrentDB before 26.1."""
