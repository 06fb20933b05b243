"""The embedded store as one object: durable log, single writer, commit notifications, reads."""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import orjson

from caseledger.adapters.eventstore.embedded import database as db
from caseledger.adapters.eventstore.embedded.commits import CommitSignal
from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_ANY,
    AppendOutcome,
    DeleteOutcome,
    EventRecord,
    ProposedEvent,
    StreamState,
)
from caseledger.adapters.eventstore.embedded.retention import Retention
from caseledger.adapters.eventstore.embedded.writer import Writer

PAGE = 512
LOCK_FILE = "caseledger-eventstore.lock"


def _lock_data_dir(data_dir: Path) -> IO[str]:
    """Hold the data dir for this process; a second server on it fails at once, clearly."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the store's life
    except OSError as error:
        raise db.DataDirError(f"data dir {data_dir} is not usable: {error}") from error
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        handle.close()
        raise db.DataDirError(
            f"data dir {data_dir} is held by another running event store"
        ) from error
    if not os.access(data_dir, os.W_OK):
        handle.close()
        raise db.DataDirError(f"data dir {data_dir} is not writable")
    return handle


def is_held(data_dir: Path) -> bool:
    """Whether a running store holds `data_dir` (its lock file is locked)."""
    try:
        with open(data_dir / LOCK_FILE, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


class StoreReads:
    """The reads of a store's storage (one set of queries, `database`): what the store itself
    answers, and what a process that only reads its file (`ReadOnlyStore`) answers the same
    way. `signal` carries the `$all` head that live subscriptions wait on."""

    database: db.Database | db.ReadOnlyDatabase
    signal: CommitSignal

    @property
    def head(self) -> int:
        return self.signal.head

    def stream_state(self, stream: str) -> StreamState:
        with self.database.reading() as conn:
            return db.load_stream_state(conn, stream)

    def readable_state(self, stream: str) -> StreamState | None:
        """The stream's state, or None when it is deleted for good: tombstoned, or the
        metadata stream (`$$name`) of a tombstoned stream."""
        with self.database.reading() as conn:
            state = db.load_stream_state(conn, stream)
            if state.tombstoned:
                return None
            if stream.startswith("$$") and db.load_stream_state(conn, stream[2:]).tombstoned:
                return None
        return state

    def first_visible(self, stream: str, state: StreamState) -> int:
        """The lowest revision reads of `stream` may return now: the latest of its `$tb`, what
        `$maxCount` keeps and what `$maxAge` keeps (past the last event when none is kept)."""
        floor = max(state.truncate_before, 0)
        with self.database.reading() as conn:
            metadata = db.latest_metadata(conn, stream)
            if metadata is None:
                return floor
            retention = Retention.from_metadata(metadata)
            floor = retention.first_visible(state.last_revision, floor)
            cutoff = retention.created_cutoff(time.time_ns() // 100)
            if cutoff is None:
                return floor
            fresh = db.first_revision_created_since(conn, stream, floor, cutoff)
        return state.last_revision + 1 if fresh is None else fresh

    def stream_pages(
        self, stream: str, from_revision: int, *, forwards: bool, floor: int, limit: int = PAGE
    ) -> Iterator[list[EventRecord]]:
        """Pages of a stream's events from `from_revision` (inclusive) in the given direction,
        `limit` events at most in all."""
        cursor, left = from_revision, limit
        while left > 0:
            with self.database.reading() as conn:
                page = db.read_stream_page(
                    conn, stream, cursor, forwards=forwards, floor=floor, limit=min(PAGE, left)
                )
            if not page:
                return
            yield page
            left -= len(page)
            if len(page) < PAGE:
                return
            cursor = page[-1].revision + (1 if forwards else -1)

    def all_pages(
        self, after: int, *, forwards: bool, limit: int = 2**62, page: int = PAGE
    ) -> Iterator[list[EventRecord]]:
        """Pages of `page` events of `$all` strictly after (forwards) or before (backwards)
        `after`; `limit` bounds each page (a filtered reader cannot know how many it will
        keep)."""
        cursor = after
        size = min(page, limit)
        while True:
            with self.database.reading() as conn:
                page_read = db.read_all_page(conn, cursor, forwards=forwards, limit=size)
            if not page_read:
                return
            yield page_read
            cursor = page_read[-1].position


class EmbeddedStore(StoreReads):
    """Open with a data dir for a durable store, or `None` for an in-memory one."""

    def __init__(self, data_dir: Path | None, *, advertise: str = "127.0.0.1:2113") -> None:
        self._lock = None if data_dir is None else _lock_data_dir(data_dir)
        try:
            self.database: db.Database = db.Database(data_dir)
        except Exception:
            if self._lock is not None:
                self._lock.close()
            raise
        self.signal = CommitSignal(0)
        try:
            self.writer = Writer(self.database, self.signal.committed)
            self.signal.committed(self.writer.head_position)
            if self.writer.head_position == 0:
                self._write_system_events(advertise)
        except Exception:  # e.g. a full disk at first start: let go of the data dir
            self.database.close()
            if self._lock is not None:
                self._lock.close()
            raise

    def _write_system_events(self, advertise: str) -> None:
        """KurrentDB writes these at first start; clients' default filters exclude them."""
        for stream, max_age in ((f"$$$stats-{advertise}", 86400), ("$$$scavenges", 2592000)):
            self.append(
                stream,
                EXPECT_ANY,
                [
                    ProposedEvent(
                        event_id=str(uuid.uuid4()),
                        type="$metadata",
                        content_type="application/json",
                        data=orjson.dumps({"$maxAge": max_age}),
                        metadata=b"",
                    )
                ],
            )

    # ---- writes ---------------------------------------------------------------------------

    def append(self, stream: str, expected: int, events: Sequence[ProposedEvent]) -> AppendOutcome:
        return self.writer.append(stream, expected, events)

    def delete(self, stream: str, expected: int) -> DeleteOutcome:
        return self.writer.delete(stream, expected)

    def tombstone(self, stream: str, expected: int) -> DeleteOutcome:
        return self.writer.tombstone(stream, expected)

    # ---- reads ----------------------------------------------------------------------------

    def is_valid_position(self, position: int) -> bool:
        """0 (the start), the position of an event, or the end of the log."""
        if position in (0, self.writer.next_position):
            return True
        with self.database.reading() as conn:
            return db.has_position(conn, position)

    def close(self) -> None:
        """Finish queued writes, wake and end subscriptions, close the files."""
        self.writer.close()
        self.signal.close()
        self.database.close()
        if self._lock is not None:
            self._lock.close()


class ReadOnlyStore(StoreReads):
    """A store's durable file read by another process, never written (a read-only connection
    per reading thread; SQLite's WAL lets it read beside the writer): `follow_all_pages` and
    `InProcessEventStore`'s reads run on it as on the store itself. Its `signal` moves only
    when the owner of the `signal` (e.g. the process that writes the store) says a commit
    happened; it starts at the file's last event."""

    def __init__(self, data_dir: Path) -> None:
        self.database = db.ReadOnlyDatabase(data_dir)
        try:
            with self.database.reading() as conn:
                last = db.last_event(conn)
        except Exception:
            self.database.close()
            raise
        self.signal = CommitSignal(0 if last is None else last.position)

    def close(self) -> None:
        """End the subscriptions waiting on the signal; close the connections."""
        self.signal.close()
        self.database.close()
