"""The SQLite files the outbox, the inbox and the notification ledger keep in the data dir."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


def open_durable(path: Path | str) -> sqlite3.Connection:
    """A connection shared across threads (callers serialise it with a lock), in WAL mode so
    the CLI can read while a worker writes, and `synchronous=FULL`: a commit is on disk when
    it returns, which is what lets a checkpoint or an attempt record survive a crash."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


class DurableSqliteFile:
    """One such file: a connection serialised by a lock, its schema applied, closed once.
    The outbox and the notification ledger are built on it."""

    def __init__(self, path: Path | str, schema: str) -> None:
        self.path = Path(path)
        self._conn = open_durable(path)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._conn.executescript(schema)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: committed, or rolled back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
