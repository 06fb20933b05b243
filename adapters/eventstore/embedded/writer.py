"""The single writer: checks expected versions and commits appends in groups.

Every append, delete and tombstone goes through one thread. It takes all requests waiting in
its queue, decides each against the streams' state (as left by the requests before it in the
same group), writes them in ONE SQLite transaction and commits it with fsync; only then does it
answer the callers and wake the subscriptions. So concurrent clients share fsyncs (group
commit) while each is acknowledged only once its events are durable, and no two events ever get
one revision. A failed commit fails the whole group and leaves no trace of it.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import orjson

from caseledger.adapters.eventstore.embedded import database as db
from caseledger.adapters.eventstore.embedded.records import (
    ANY,
    FIRST_POSITION,
    NO_STREAM,
    STREAM_EXISTS,
    TOMBSTONE_REVISION,
    Appended,
    AppendOutcome,
    DeleteOutcome,
    ProposedEvent,
    StoredEvent,
    StreamDeleted,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)

MAX_GROUP = 256
"""Most requests committed together; bounds one transaction's size and latency."""


@dataclass
class _Request:
    kind: str  # "append" | "delete" | "tombstone"
    stream: str
    expected: int
    events: Sequence[ProposedEvent] = ()
    result: Future[DeleteOutcome] = field(default_factory=Future)


class StoreClosed(Exception):
    """The store is shutting down and takes no more writes."""


class _Group:
    """One transaction's worth of decisions: stream state as the group has changed it."""

    def __init__(self, conn: sqlite3.Connection, writer: Writer) -> None:
        self.conn = conn
        self.writer = writer
        self.states: dict[str, StreamState] = {}
        self.next_position = writer.next_position
        self.written = False

    def state(self, stream: str) -> StreamState:
        if stream not in self.states:
            self.states[stream] = self.writer.stream_state(stream, self.conn)
        return self.states[stream]

    def insert(self, stream: str, revision: int, event: ProposedEvent) -> int:
        position = self.next_position
        self.conn.execute(
            "INSERT INTO events (position, stream, revision, event_id, type, content_type,"
            " data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                position,
                stream,
                revision,
                event.event_id,
                event.type,
                event.content_type,
                event.data,
                event.metadata,
                time.time_ns() // 100,
            ),
        )
        self.next_position += event.size(stream)
        self.written = True
        return position

    def save_state(self, stream: str, state: StreamState) -> None:
        self.states[stream] = state
        self.conn.execute(
            "INSERT INTO streams (name, last_revision, truncate_before, tombstoned)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
            " last_revision = excluded.last_revision,"
            " truncate_before = excluded.truncate_before, tombstoned = excluded.tombstoned",
            (stream, state.last_revision, state.truncate_before, int(state.tombstoned)),
        )


class Writer:
    """Owns the write connection and the `$all` head; see the module docstring."""

    def __init__(self, database: db.Database, on_commit: Callable[[int], None]) -> None:
        self._db = database
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._states: dict[str, StreamState] = {}
        self._closing = threading.Event()
        last = db.last_event(database.writer)
        self.next_position = FIRST_POSITION if last is None else last.position + _size_of(last)
        self.head_position = 0 if last is None else last.position
        self._thread = threading.Thread(target=self._run, name="eventstore-writer", daemon=True)
        self._thread.start()

    # ---- the callers' side ----------------------------------------------------------------

    def append(self, stream: str, expected: int, events: Sequence[ProposedEvent]) -> AppendOutcome:
        outcome = self._submit(_Request("append", stream, expected, events))
        assert not isinstance(outcome, StreamNotFound)
        return outcome

    def delete(self, stream: str, expected: int) -> DeleteOutcome:
        return self._submit(_Request("delete", stream, expected))

    def tombstone(self, stream: str, expected: int) -> DeleteOutcome:
        return self._submit(_Request("tombstone", stream, expected))

    def _submit(self, request: _Request) -> DeleteOutcome:
        if self._closing.is_set():
            raise StoreClosed("the event store is shutting down")
        self._queue.put(request)
        return request.result.result()

    def close(self) -> None:
        """Finish every write already queued, then stop."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join()

    def stream_state(self, stream: str, conn: sqlite3.Connection) -> StreamState:
        state = self._states.get(stream)
        if state is None:
            state = db.load_stream_state(conn, stream)
        return state

    # ---- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit_group(batch)
            if stop:
                return

    def _commit_group(self, batch: list[_Request]) -> None:
        outcomes: list[DeleteOutcome] = []
        try:
            with self._db.writing() as conn:
                group = _Group(conn, self)
                outcomes = [_decide(group, request) for request in batch]
        except Exception as error:  # the disk failed us: nobody in the group is acknowledged
            for request in batch:
                request.result.set_exception(error)
            return
        if group.written:
            self._states.update(group.states)
            if len(self._states) > 100_000:  # bounded: the streams table is the truth
                self._states.clear()
            self.head_position = _last_position(group)
            self.next_position = group.next_position
        for request, outcome in zip(batch, outcomes, strict=True):
            request.result.set_result(outcome)
        if group.written:
            with contextlib.suppress(Exception):
                self._on_commit(self.head_position)


def _size_of(event: StoredEvent) -> int:
    return ProposedEvent(
        event.event_id, event.type, event.content_type, event.data, event.metadata
    ).size(event.stream)


def _last_position(group: _Group) -> int:
    row = group.conn.execute("SELECT max(position) FROM events").fetchone()
    return int(row[0])


# ---- decisions: one function per request kind ------------------------------------------------


def _decide(group: _Group, request: _Request) -> DeleteOutcome:
    if request.kind == "append":
        return _append(group, request.stream, request.expected, request.events)
    if request.kind == "delete":
        return _delete(group, request.stream, request.expected)
    return _tombstone(group, request.stream, request.expected)


def _expected_matches(state: StreamState, expected: int) -> bool:
    if expected == ANY:
        return True
    if expected == STREAM_EXISTS:
        return state.is_readable
    if expected == NO_STREAM:
        return not state.is_readable
    return expected == state.last_revision and not (
        state.is_soft_deleted and expected < state.truncate_before - 1
    )


def _idempotent_repeat(
    group: _Group, stream: str, state: StreamState, expected: int, events: Sequence[ProposedEvent]
) -> AppendOutcome | None:
    """KurrentDB's idempotent append: the same event ids written again at the same place answer
    with the original result and write nothing; known ids plus new ones are a wrong version."""
    if expected >= NO_STREAM:
        first_revision: int | None = expected + 1
    else:
        first_revision = db.revision_of_event_id(group.conn, stream, events[0].event_id)
    if first_revision is None or first_revision > state.last_revision:
        return None
    existing = db.events_at(group.conn, stream, first_revision, len(events))
    if not existing or existing[0].event_id != events[0].event_id:
        return None
    ids_match = len(existing) == len(events) and all(
        old.event_id == new.event_id for old, new in zip(existing, events, strict=True)
    )
    if ids_match:
        return Appended(revision=existing[-1].revision, position=existing[-1].position)
    return WrongExpectedVersion(stream, expected, state.current_version)


def _append(
    group: _Group, stream: str, expected: int, events: Sequence[ProposedEvent]
) -> AppendOutcome:
    state = group.state(stream)
    if state.tombstoned:
        return StreamDeleted(stream)
    if events:
        repeat = _idempotent_repeat(group, stream, state, expected, events)
        if repeat is not None:
            return repeat
    if not _expected_matches(state, expected):
        return WrongExpectedVersion(stream, expected, state.current_version)
    if not events:
        return Appended(revision=state.last_revision, position=group.writer.head_position)
    revision = state.last_revision
    position = 0
    for event in events:
        revision += 1
        position = group.insert(stream, revision, event)
    group.save_state(stream, replace(state, last_revision=revision))
    if stream.startswith("$$") and events[-1].type == "$metadata":
        _apply_metadata(group, stream[2:], events[-1].data)
    return Appended(revision=revision, position=position)


def _apply_metadata(group: _Group, stream: str, data: bytes) -> None:
    """`$tb` in a stream's metadata truncates it: reads start at that revision."""
    try:
        metadata = orjson.loads(data)
        truncate_before = int(metadata.get("$tb", 0)) if isinstance(metadata, dict) else 0
    except (orjson.JSONDecodeError, TypeError, ValueError):
        truncate_before = 0
    state = group.state(stream)
    group.save_state(stream, replace(state, truncate_before=truncate_before))


def _check_deletable(state: StreamState, stream: str, expected: int) -> DeleteOutcome | None:
    if state.tombstoned:
        return StreamDeleted(stream)
    if not _expected_matches(state, expected) or not state.is_readable:
        if not state.is_readable:
            return StreamNotFound(stream)
        return WrongExpectedVersion(stream, expected, state.current_version)
    return None


def _delete(group: _Group, stream: str, expected: int) -> DeleteOutcome:
    """Soft delete: stream metadata `$tb` past the last event; new appends revive the stream."""
    state = group.state(stream)
    refused = _check_deletable(state, stream, expected)
    if refused is not None:
        return refused
    meta_stream = f"$${stream}"
    current = _current_metadata(group, meta_stream)
    current["$tb"] = state.last_revision + 1
    event = ProposedEvent(
        event_id=_new_id(),
        type="$metadata",
        content_type="application/json",
        data=orjson.dumps(current),
        metadata=b"",
    )
    return _append(group, meta_stream, ANY, [event])


def _tombstone(group: _Group, stream: str, expected: int) -> DeleteOutcome:
    """Hard delete: `$streamDeleted` at the last possible revision; the stream is gone for good."""
    state = group.state(stream)
    if not state.tombstoned and not state.is_readable and expected in (ANY, NO_STREAM):
        pass  # KurrentDB tombstones a stream that never existed, too
    else:
        refused = _check_deletable(state, stream, expected)
        if refused is not None:
            return refused
    event = ProposedEvent(
        event_id=_new_id(),
        type="$streamDeleted",
        content_type="application/octet-stream",
        data=b"",
        metadata=b"",
    )
    position = group.insert(stream, TOMBSTONE_REVISION, event)
    group.save_state(stream, replace(state, tombstoned=True))
    return Appended(revision=TOMBSTONE_REVISION, position=position)


def _current_metadata(group: _Group, meta_stream: str) -> dict[str, object]:
    state = group.state(meta_stream)
    if state.last_revision < 0:
        return {}
    last = db.events_at(group.conn, meta_stream, state.last_revision, 1)
    try:
        value = orjson.loads(last[0].data) if last else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _new_id() -> str:
    return str(uuid.uuid4())
