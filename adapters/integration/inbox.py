"""The inbox (seed §19): a consumer records each processed message id in the same transaction
as its effect, so a redelivered message — by the broker, or by a relay that published it again
after its duplicate window — changes nothing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Generic, TypeVar

from caseledger.adapters.integration.durable_sqlite import open_durable

T = TypeVar("T")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS inbox_message (
    consumer TEXT NOT NULL,
    message_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (consumer, message_id)
);
"""


@dataclass(frozen=True)
class Processed(Generic[T]):
    """The message was new: its effect ran and committed with the inbox record."""

    value: T


class SqliteInbox:
    """Shares the consumer's SQLite database (and connection) so one transaction covers the
    inbox record and the consumer's own tables."""

    def __init__(self, conn: sqlite3.Connection, consumer: str, lock: threading.Lock) -> None:
        self._conn, self.consumer, self._lock = conn, consumer, lock
        with self._lock:
            self._conn.executescript(_SCHEMA)

    @classmethod
    def open(cls, path: Path | str, consumer: str) -> SqliteInbox:
        return cls(open_durable(path), consumer, threading.Lock())

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def seen(self, message_id: str) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM inbox_message WHERE consumer = ? AND message_id = ?",
                (self.consumer, message_id),
            ).fetchone()
        return row is not None

    def process(
        self, message_id: str, effect: Callable[[sqlite3.Connection], T]
    ) -> Processed[T] | None:
        """Run `effect` and record `message_id` in one transaction; None (and no effect) when
        the message was processed before. An exception in `effect` records nothing."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                now = datetime.now(UTC).isoformat()
                inserted = self._conn.execute(
                    "INSERT OR IGNORE INTO inbox_message VALUES (?, ?, ?, ?, 'processed')",
                    (self.consumer, message_id, now, now),
                ).rowcount
                if not inserted:
                    self._conn.execute("ROLLBACK")
                    return None
                value = effect(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return Processed(value)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
