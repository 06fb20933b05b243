"""The SQLite files the outbox, the inbox and the notification ledger keep in the data dir."""

from __future__ import annotations

import sqlite3
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
