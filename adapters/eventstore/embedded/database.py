"""SQLite access for the embedded store: connections, schema, and the read queries.

SQLite in WAL mode with `synchronous=FULL` is the storage engine: a commit returns only once it
is fsync'd, and a crash at any moment recovers to the last commit by itself. Readers use their
own connections (one per thread) and never block the writer. `--mem-db` keeps everything in one
in-memory connection guarded by a lock instead.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from caseledger.adapters.eventstore.embedded.records import (
    TOMBSTONE_REVISION,
    EventRecord,
    StreamState,
)

DB_FILE = "events.sqlite3"
LARGEST = 2**63 - 1
"""SQLite's largest integer. Revisions and positions come off the wire as uint64: one above
this is past every event, so queries take it as this (`_bounded`)."""
SCHEMA_VERSION = "1"
_COLUMNS = "position, stream, revision, event_id, type, content_type, data, metadata, created"
INSERT_EVENT = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
UPSERT_STREAM = (
    "INSERT INTO streams (name, truncate_before, tombstoned) VALUES (?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET truncate_before = excluded.truncate_before,"
    " tombstoned = excluded.tombstoned"
)


class DataDirError(Exception):
    """The data directory cannot be used (not writable, or held by another running server)."""


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")


def _row_to_event(row: tuple[object, ...]) -> EventRecord:
    return EventRecord(*row)  # type: ignore[arg-type]


class _ThreadConnections:
    """One connection per reading thread, opened on its first read; `close` closes them all."""

    def __init__(self, open_connection: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_connection
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def mine(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


class Database:
    """Connections to one store. `path=None` is the in-memory store."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._mem_lock = threading.RLock()
        self._closed = False
        self._readers = _ThreadConnections(self._open)
        self.writer = self._open()
        self.writer.executescript(
            resources.files("caseledger.adapters.eventstore.embedded")
            .joinpath("schema.sql")
            .read_text()
        )
        self.writer.execute(
            "INSERT OR IGNORE INTO store_info (key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )
        self.writer.commit()

    @property
    def path(self) -> Path | None:
        """The data dir, or None for the in-memory store."""
        return self._path

    @property
    def in_memory(self) -> bool:
        return self._path is None

    def _open(self) -> sqlite3.Connection:
        target = ":memory:" if self._path is None else str(self._path / DB_FILE)
        try:
            conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            if self._path is not None:
                _configure(conn)
        except sqlite3.Error as error:
            raise DataDirError(f"cannot open the event store at {target}: {error}") from error
        return conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads on this thread (the shared one, locked, in memory)."""
        if self.in_memory:
            with self._mem_lock:
                yield self.writer
            return
        yield self._readers.mine()

    def writing(self) -> _WriteTransaction:
        """The writer's connection inside one transaction; commits (fsync) or rolls back."""
        return _WriteTransaction(self.writer, self._mem_lock if self.in_memory else None)

    def close(self) -> None:
        self._closed = True
        self._readers.close()
        self.writer.close()


class ReadOnlyDatabase:
    """Read-only connections to a store's file that another process writes (one per reading
    thread, `mode=ro`, `query_only`): WAL lets them read committed transactions beside the
    writer. The file must exist (its writer created it)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._readers = _ThreadConnections(self._open)
        if not (path / DB_FILE).is_file():
            raise DataDirError(f"no event store at {path / DB_FILE}")

    @property
    def path(self) -> Path:
        return self._path

    def _open(self) -> sqlite3.Connection:
        target = f"{(self._path / DB_FILE).resolve().as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(target, uri=True, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only=1")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as error:
            raise DataDirError(f"cannot read the event store at {target}: {error}") from error
        return conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """This thread's read-only connection."""
        yield self._readers.mine()

    def close(self) -> None:
        self._readers.close()


# ---- queries (each takes the connection to use) ----------------------------------------------


_STREAM_STATE = (
    "SELECT (SELECT max(revision) FROM events WHERE stream = ?1 AND revision < ?2),"
    " s.truncate_before, s.tombstoned, s.name IS NOT NULL"
    " FROM (SELECT 1) LEFT JOIN streams AS s ON s.name = ?1"
)
"""A stream's last revision and its row in `streams` (if any), in one statement."""


def load_stream_state(conn: sqlite3.Connection, stream: str) -> StreamState:
    last, truncate_before, tombstoned, has_row = conn.execute(
        _STREAM_STATE, (stream, TOMBSTONE_REVISION)
    ).fetchone()
    return StreamState(
        last_revision=-1 if last is None else int(last),
        truncate_before=truncate_before if has_row else 0,
        tombstoned=bool(tombstoned) if has_row else False,
        has_metadata=bool(has_row),
    )


def last_event(conn: sqlite3.Connection) -> EventRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM events ORDER BY position DESC LIMIT 1").fetchone()
    return None if row is None else _row_to_event(row)


def events_at(
    conn: sqlite3.Connection, stream: str, first_revision: int, count: int
) -> list[EventRecord]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND revision >= ? "
        "ORDER BY revision LIMIT ?",
        (stream, first_revision, count),
    ).fetchall()
    return [_row_to_event(r) for r in rows]


def has_position(conn: sqlite3.Connection, position: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM events WHERE position = ?", (_bounded(position),)).fetchone()
        is not None
    )


def revision_of_event_id(conn: sqlite3.Connection, stream: str, event_id: str) -> int | None:
    row = conn.execute(
        "SELECT revision FROM events WHERE event_id = ? AND stream = ? LIMIT 1", (event_id, stream)
    ).fetchone()
    return None if row is None else int(row[0])


def latest_metadata(conn: sqlite3.Connection, stream: str) -> bytes | None:
    """The body of the newest event in `stream`'s metadata stream (`$$stream`), if any."""
    row = conn.execute(
        "SELECT data FROM events WHERE stream = ? AND revision < ? ORDER BY revision DESC LIMIT 1",
        (f"$${stream}", TOMBSTONE_REVISION),
    ).fetchone()
    return None if row is None else bytes(row[0])


def first_revision_created_since(
    conn: sqlite3.Connection, stream: str, from_revision: int, created: int
) -> int | None:
    """The first revision at or after `from_revision` created at or after `created` (ticks).
    It walks the stream's index from `from_revision`, so it costs one row per older event."""
    row = conn.execute(
        "SELECT revision FROM events WHERE stream = ? AND revision >= ? AND revision < ?"
        " AND created >= ? ORDER BY revision LIMIT 1",
        (stream, from_revision, TOMBSTONE_REVISION, created),
    ).fetchone()
    return None if row is None else int(row[0])


def read_stream_page(
    conn: sqlite3.Connection,
    stream: str,
    from_revision: int,
    *,
    forwards: bool,
    floor: int,
    limit: int,
) -> list[EventRecord]:
    """Events of `stream` from `from_revision` (inclusive), never below `floor` ($tb)."""
    if forwards:
        sql = (
            f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND revision >= ? "
            "ORDER BY revision LIMIT ?"
        )
        args: tuple[object, ...] = (stream, _bounded(max(from_revision, floor)), limit)
    else:
        sql = (
            f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND revision <= ? AND revision >= ? "
            "ORDER BY revision DESC LIMIT ?"
        )
        args = (stream, _bounded(from_revision), floor, limit)
    return [_row_to_event(r) for r in conn.execute(sql, args).fetchall()]


def read_all_page(
    conn: sqlite3.Connection, after: int, *, forwards: bool, limit: int
) -> list[EventRecord]:
    """Forwards: events with position > `after`; backwards: events with position < `after`."""
    if forwards:
        sql = f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
    else:
        sql = f"SELECT {_COLUMNS} FROM events WHERE position < ? ORDER BY position DESC LIMIT ?"
    return [_row_to_event(r) for r in conn.execute(sql, (_bounded(after), limit)).fetchall()]


def _bounded(value: int) -> int:
    return min(value, LARGEST)


class _WriteTransaction:
    """`with database.writing() as conn`: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on an
    exception or a failed COMMIT. A class rather than a generator context manager: it is on
    every group commit's path."""

    __slots__ = ("_conn", "_lock")

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None) -> None:
        self._conn = conn
        self._lock = lock

    def __enter__(self) -> sqlite3.Connection:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self._conn

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        try:
            if error_type is None:
                self._commit()
            else:
                self._conn.execute("ROLLBACK")
        finally:
            if self._lock is not None:
                self._lock.release()

    def _commit(self) -> None:
        """A failed COMMIT (disk full, I/O error) may leave the transaction open: roll it back,
        so the next one starts clean, and raise the failure."""
        try:
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
