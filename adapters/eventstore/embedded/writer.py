"""The writer: checks expected versions and commits appends in groups.

Callers queue their request, then take turns holding the commit lock. Whoever holds it commits
EVERY request waiting in the queue — its own and those that arrived meanwhile — in ONE SQLite
transaction with one fsync, deciding each against the streams' state as the requests before it
in the group left it. So concurrent clients share fsyncs (group commit), a lone client pays no
thread hand-off, each caller is answered only once its events are durable, and no two events
ever get one revision. A failed commit fails the whole group and leaves no trace of it.

Besides the v1 requests (append, delete, tombstone), `transact` runs any decision over a
`CommitGroup` in the same groups: multi-stream transactions with checks use it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar, cast

import orjson

from caseledger.adapters.eventstore.embedded import database as db
from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_NO_STREAM,
    FIRST_POSITION,
    TOMBSTONE_REVISION,
    Appended,
    AppendOutcome,
    DeleteOutcome,
    EventRecord,
    NoSuchStream,
    ProposedEvent,
    StreamDeleted,
    StreamState,
    WrongRevision,
)
from caseledger.adapters.eventstore.embedded.stream_rules import (
    SOFT_DELETE_METADATA,
    Verdict,
    check_expected,
    recreated_metadata,
)

MAX_GROUP = 512
"""Most requests committed together; bounds one transaction's size and latency."""
STATE_CACHE = 100_000
"""Streams whose state the writer keeps in memory; the database is the truth beyond that."""

T = TypeVar("T")
log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """A write the store could not take; nothing of it was written. Clients may retry it
    (KurrentDB's UNAVAILABLE): a retry with the same event ids is idempotent."""


class StoreClosed(StoreUnavailable):
    """The store is shutting down and takes no more writes."""


class WriteFailed(StoreUnavailable):
    """The disk refused a group commit (full, I/O error): the whole group was rolled back."""


class WriteTimedOut(StoreUnavailable):
    """The write waited its whole time for a turn at the commit and was withdrawn from the
    queue before any group took it: nothing of it was written."""


@dataclass(eq=False)
class _Request:
    kind: str  # "append" | "delete" | "tombstone" | "transact"
    stream: str
    expected: int
    events: Sequence[ProposedEvent] = ()
    decide: Callable[[CommitGroup], object] | None = None
    done: bool = False
    outcome: object = None
    error: BaseException | None = None


class CommitGroup:
    """One transaction's worth of decisions: stream state as the group changed it, and rows
    not yet handed to SQLite (written with executemany: before a lookup of a stream they
    belong to, and at the end, so a group of appends to different streams inserts once)."""

    def __init__(self, conn: sqlite3.Connection, writer: Writer) -> None:
        self.conn = conn
        self.writer = writer
        self.states: dict[str, StreamState] = {}
        self.changed_metadata: set[str] = set()
        self.next_position = writer.next_position
        self.last_position = writer.head_position
        self.created = time.time_ns() // 100
        self.rows: list[tuple[object, ...]] = []
        self._unflushed: set[str] = set()

    def state(self, stream: str) -> StreamState:
        if stream not in self.states:
            self.states[stream] = self.writer.stream_state(stream, self.conn)
        return self.states[stream]

    def insert(self, stream: str, revision: int, event: ProposedEvent) -> int:
        position = self.next_position
        self.rows.append(
            (
                position, stream, revision, event.event_id, event.type,
                event.content_type, event.data, event.metadata, self.created,
            )
        )  # fmt: skip
        self.next_position += event.size(stream)
        self.last_position = position
        self._unflushed.add(stream)
        return position

    def flush(self) -> sqlite3.Connection:
        """Hand pending rows to SQLite, so queries on this connection see them."""
        if self.rows:
            self.conn.executemany(db.INSERT_EVENT, self.rows)
            self.rows = []
            self._unflushed.clear()
        return self.conn

    def reading(self, stream: str) -> sqlite3.Connection:
        """The connection for a lookup of `stream`'s events: this group's rows for it are
        handed to SQLite first (other streams' rows cannot change the answer)."""
        return self.flush() if stream in self._unflushed else self.conn

    def set_state(self, stream: str, state: StreamState, *, persist: bool = False) -> None:
        self.states[stream] = state
        if persist:
            self.changed_metadata.add(stream)

    def save(self) -> None:
        self.flush()
        for stream in self.changed_metadata:
            state = self.states[stream]
            self.conn.execute(db.UPSERT_STREAM, (stream, state.truncate_before, state.tombstoned))

    @property
    def written(self) -> bool:
        return self.last_position != self.writer.head_position


class Writer:
    """Owns the write connection and the `$all` head; see the module docstring."""

    def __init__(self, database: db.Database, on_commit: Callable[[int], None]) -> None:
        self._db = database
        self._on_commit = on_commit
        self._pending: list[_Request] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._states: dict[str, StreamState] = {}
        self._closed = False
        last = db.last_event(database.writer)
        self.next_position = FIRST_POSITION if last is None else last.position + _size_of(last)
        self.head_position = 0 if last is None else last.position

    # ---- the callers' side ----------------------------------------------------------------

    def append(
        self,
        stream: str,
        expected: int,
        events: Sequence[ProposedEvent],
        timeout: float | None = None,
    ) -> AppendOutcome:
        outcome = self._submit(_Request("append", stream, expected, events), timeout)
        assert not isinstance(outcome, NoSuchStream)
        return cast(AppendOutcome, outcome)

    def delete(self, stream: str, expected: int) -> DeleteOutcome:
        return cast(DeleteOutcome, self._submit(_Request("delete", stream, expected)))

    def tombstone(self, stream: str, expected: int) -> DeleteOutcome:
        return cast(DeleteOutcome, self._submit(_Request("tombstone", stream, expected)))

    def transact(self, decide: Callable[[CommitGroup], T], timeout: float | None = None) -> T:
        """Run `decide` in the next group commit, after the requests queued before it: it sees
        the streams as they left them, inserts rows through the group, and its result comes
        back once those rows are durable. It must decide, not raise: an exception fails the
        whole group. `timeout` as `append`'s."""
        return cast(T, self._submit(_Request("transact", "", 0, decide=decide), timeout))

    def _submit(self, request: _Request, timeout: float | None = None) -> object:
        """`timeout` (seconds, None = no limit) bounds the wait for a turn at the commit: a
        request still queued then is withdrawn (`WriteTimedOut`, nothing written); one a group
        in flight has taken is answered with that group, however long its commit takes."""
        with self._pending_lock:
            if self._closed:
                raise StoreClosed("the event store is shutting down")
            self._pending.append(request)
        ends_at = None if timeout is None else time.monotonic() + timeout
        while not request.done:
            left = -1.0 if ends_at is None else max(0.0, ends_at - time.monotonic())
            if not self._commit_lock.acquire(timeout=left):
                if self._withdrawn(request):
                    raise WriteTimedOut(f"the event store did not commit within {timeout:g}s")
                ends_at = None  # in a group in flight: its answer comes with the group
                continue
            try:
                while not request.done:
                    self._commit_waiting()
            finally:
                self._commit_lock.release()
        error = request.error
        if isinstance(error, WriteFailed):  # one exception per caller: threads share no traceback
            raise WriteFailed(str(error)) from error.__cause__
        if error is not None:
            raise error
        return request.outcome

    def _withdrawn(self, request: _Request) -> bool:
        with self._pending_lock:
            if request in self._pending:
                self._pending.remove(request)
                return True
            return False

    @property
    def queued(self) -> int:
        """Writes waiting for the next group commit."""
        with self._pending_lock:
            return len(self._pending)

    def close(self) -> None:
        """Take no more writes; commit every write already queued."""
        with self._pending_lock:
            self._closed = True
        with self._commit_lock:
            while self._pending:
                self._commit_waiting()

    def stream_state(self, stream: str, conn: sqlite3.Connection) -> StreamState:
        state = self._states.get(stream)
        return db.load_stream_state(conn, stream) if state is None else state

    # ---- the committer's side (holds the commit lock) -------------------------------------

    def _commit_waiting(self) -> None:
        with self._pending_lock:
            batch, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
        if batch:
            self._commit_group(batch)

    def _commit_group(self, batch: list[_Request]) -> None:
        try:
            with self._db.writing() as conn:
                group = CommitGroup(conn, self)
                outcomes = [_decide(group, request) for request in batch]
                group.save()
        except Exception as error:  # nobody in the group is acknowledged
            failure = _group_failure(error, len(batch))
            for request in batch:
                request.error, request.done = failure, True
            return
        written = group.written
        if written:
            if len(self._states) > STATE_CACHE:
                self._states.clear()
            self._states.update(group.states)
            self.head_position = group.last_position
            self.next_position = group.next_position
        for request, outcome in zip(batch, outcomes, strict=True):
            request.outcome, request.done = outcome, True
        if written:
            self._on_commit(self.head_position)


def _group_failure(error: Exception, size: int) -> Exception:
    """What each caller of a failed group gets: `WriteFailed` when SQLite or the disk refused
    the commit (logged once here, not once per caller), the error itself when a decision
    raised (a bug, which the caller's handler reports as such)."""
    if not isinstance(error, sqlite3.Error | OSError):
        return error
    log.error("a group commit of %d write(s) failed and was rolled back: %s", size, error)
    failure = WriteFailed(
        f"the event store could not commit the write ({error}); nothing was written"
    )
    failure.__cause__ = error
    return failure


def _size_of(event: EventRecord) -> int:
    proposed = ProposedEvent(
        event.event_id, event.type, event.content_type, event.data, event.metadata
    )
    return proposed.size(event.stream)


# ---- decisions: one function per request kind ------------------------------------------------


def _decide(group: CommitGroup, request: _Request) -> object:
    if request.decide is not None:
        return request.decide(group)
    if request.kind == "append":
        return _append(group, request.stream, request.expected, request.events)
    if request.kind == "delete":
        return _delete(group, request.stream, request.expected)
    return _tombstone(group, request.stream, request.expected)


def expected_matches(state: StreamState, expected: int) -> bool:
    return check_expected(state, expected) is Verdict.PASS


def idempotent_repeat(
    group: CommitGroup,
    stream: str,
    state: StreamState,
    expected: int,
    events: Sequence[ProposedEvent],
) -> AppendOutcome | None:
    """KurrentDB's idempotent append: the same event ids written again at the same place answer
    with the original result and write nothing; known ids plus new ones are a wrong version."""
    if state.last_revision < 0:
        return None
    conn = group.reading(stream)
    if expected >= EXPECT_NO_STREAM:
        first_revision: int | None = expected + 1
    else:
        first_revision = db.revision_of_event_id(conn, stream, events[0].event_id)
    if first_revision is None or first_revision > state.last_revision:
        return None
    existing = db.events_at(conn, stream, first_revision, len(events))
    if not existing or existing[0].event_id != events[0].event_id:
        return None
    ids_match = len(existing) == len(events) and all(
        old.event_id == new.event_id for old, new in zip(existing, events, strict=True)
    )
    if ids_match:
        return Appended(revision=existing[-1].revision, position=existing[-1].position)
    return WrongRevision(stream, expected, state.current_version)


def _append(
    group: CommitGroup, stream: str, expected: int, events: Sequence[ProposedEvent]
) -> AppendOutcome:
    state = group.state(stream)
    if stream.startswith("$$") and group.state(stream[2:]).tombstoned:
        state = replace(state, tombstoned=True)
    verdict = check_expected(state, expected)
    if verdict is Verdict.DELETED:
        return StreamDeleted(stream)
    if events:
        repeat = idempotent_repeat(group, stream, state, expected, events)
        if repeat is not None:
            return repeat
    if verdict is Verdict.WRONG_VERSION:
        return WrongRevision(stream, expected, state.current_version)
    return _write(group, stream, state, events)


def _write(
    group: CommitGroup, stream: str, state: StreamState, events: Sequence[ProposedEvent]
) -> Appended:
    revision, position = state.last_revision, group.last_position
    for event in events:
        revision += 1
        position = group.insert(stream, revision, event)
    group.set_state(stream, state.at_revision(revision))
    recreate_if_deleted(group, stream, state)
    if stream.startswith("$$") and events and events[-1].type == "$metadata":
        original = group.state(stream[2:])
        _apply_metadata(group, stream[2:], events[-1].data)
        recreate_if_deleted(group, stream[2:], original)
    return Appended(revision=revision, position=position)


def recreate_if_deleted(group: CommitGroup, stream: str, before: StreamState) -> None:
    """A write to `stream`, soft-deleted `before` it, re-creates it from the revision after
    its last one before the write (`stream_rules`)."""
    if not before.is_soft_deleted:
        return
    meta_stream = f"$${stream}"
    metadata = recreated_metadata(_current_metadata(group, meta_stream), before.last_revision + 1)
    if metadata is not None:
        _write_metadata(group, stream, metadata)


def _write_metadata(group: CommitGroup, stream: str, data: bytes) -> Appended:
    """A `$metadata` event in `$$stream`, applied at once (no check: the caller decided)."""
    meta_stream = f"$${stream}"
    event = ProposedEvent(
        event_id=str(uuid.uuid4()), type="$metadata", content_type="application/json",
        data=data, metadata=b"",
    )  # fmt: skip
    state = group.state(meta_stream)
    revision = state.last_revision + 1
    position = group.insert(meta_stream, revision, event)
    group.set_state(meta_stream, state.at_revision(revision))
    _apply_metadata(group, stream, data)
    return Appended(revision=revision, position=position)


def _apply_metadata(group: CommitGroup, stream: str, data: bytes) -> None:
    """`$tb` in a stream's metadata truncates it (reads start at that revision); `$tb` at
    DELETED_STREAM soft-deletes it."""
    try:
        metadata = orjson.loads(data)
        truncate_before = int(metadata.get("$tb", 0)) if isinstance(metadata, dict) else 0
    except (orjson.JSONDecodeError, TypeError, ValueError, OverflowError):
        truncate_before = 0
    truncate_before = min(max(truncate_before, 0), db.LARGEST)  # past every revision at most
    state = group.state(stream)
    changed = replace(state, truncate_before=truncate_before, has_metadata=True)
    group.set_state(stream, changed, persist=True)


def _refusal(state: StreamState, stream: str, expected: int) -> DeleteOutcome | None:
    verdict = check_expected(state, expected)
    if verdict is Verdict.DELETED:
        return StreamDeleted(stream)
    if verdict is Verdict.WRONG_VERSION:
        return WrongRevision(stream, expected, state.current_version)
    return None


def _delete(group: CommitGroup, stream: str, expected: int) -> DeleteOutcome:
    """Soft delete: the stream's metadata becomes `$tb` DELETED_STREAM (`stream_rules`)."""
    state = group.state(stream)
    refused = _refusal(state, stream, expected)
    if refused is not None:
        return refused
    if state.last_revision < 0 and group.state(f"$${stream}").last_revision < 0:
        return NoSuchStream(stream)
    return _write_metadata(group, stream, SOFT_DELETE_METADATA)


def _tombstone(group: CommitGroup, stream: str, expected: int) -> DeleteOutcome:
    """Hard delete: `$streamDeleted` at the last possible revision; the stream is gone for good.
    A stream that never existed can be tombstoned with expected any or no-stream."""
    state = group.state(stream)
    refused = _refusal(state, stream, expected)
    if refused is not None:
        return refused
    event = ProposedEvent(
        event_id=str(uuid.uuid4()), type="$streamDeleted",
        content_type="application/octet-stream", data=b"", metadata=b"",
    )  # fmt: skip
    position = group.insert(stream, TOMBSTONE_REVISION, event)
    group.set_state(stream, replace(state, tombstoned=True), persist=True)
    return Appended(revision=TOMBSTONE_REVISION, position=position)


def _current_metadata(group: CommitGroup, meta_stream: str) -> bytes | None:
    state = group.state(meta_stream)
    if state.last_revision < 0:
        return None
    last = db.events_at(group.reading(meta_stream), meta_stream, state.last_revision, 1)
    return last[0].data if last else None
