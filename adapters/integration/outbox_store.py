"""The outbox ledger (SQLite, in the data dir by default): the relay's checkpoint and one row per
integration message with its status and attempts.

Statuses: `pending` (staged, not acknowledged yet), `published` (the broker acknowledged),
`parked` (the broker refused it `max_attempts` times, or it could not be built: kept with its
error, skipped by the checkpoint, published again on `retry`), `retry_requested`.
The checkpoint moves only together with a message becoming `published` or `parked`, in one
transaction, so nothing is lost across crashes: at worst a message is published again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from caseledger.adapters.integration.durable_sqlite import DurableSqliteFile, utc_now

OUTBOX_FILE: Final = "outbox.sqlite3"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS outbox_checkpoint (
    relay TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_message (
    message_id TEXT PRIMARY KEY,
    relay TEXT NOT NULL,
    position INTEGER NOT NULL,
    stream TEXT NOT NULL,
    revision INTEGER NOT NULL,
    internal_type TEXT NOT NULL,
    contract TEXT,
    subject TEXT,
    body BLOB,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    last_attempt_at TEXT,
    published_at TEXT,
    broker_stream TEXT,
    broker_seq INTEGER,
    duplicate INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_message_status ON outbox_message (status, position);
"""


class MessageStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    PARKED = "parked"
    RETRY_REQUESTED = "retry_requested"


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    relay: str
    position: int
    stream: str
    revision: int
    internal_type: str
    contract: str | None
    subject: str | None
    body: bytes | None
    status: MessageStatus
    attempts: int
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    published_at: str | None
    broker_stream: str | None
    broker_seq: int | None
    duplicate: bool | None


@dataclass(frozen=True)
class Staged:
    """What the relay stages before its first publish attempt."""

    message_id: str
    position: int
    stream: str
    revision: int
    internal_type: str
    contract: str | None
    subject: str | None
    body: bytes | None


class SqliteOutbox(DurableSqliteFile):
    """One connection, serialised by a lock; WAL so the CLI can read while the relay writes."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, _SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SqliteOutbox:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / OUTBOX_FILE)

    def checkpoint(self, relay: str) -> int | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT position FROM outbox_checkpoint WHERE relay = ?", (relay,)
            ).fetchone()
        return None if row is None else int(row["position"])

    def advance(self, relay: str, position: int) -> None:
        """Move the checkpoint past events that publish nothing."""
        with self._tx() as conn:
            _advance(conn, relay, position)

    def stage(self, relay: str, staged: Staged) -> OutboxMessage:
        """Record the message (once: a re-staged id keeps its row, attempts and status)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO outbox_message (message_id, relay, position, stream,"
                " revision, internal_type, contract, subject, body, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    staged.message_id,
                    relay,
                    staged.position,
                    staged.stream,
                    staged.revision,
                    staged.internal_type,
                    staged.contract,
                    staged.subject,
                    staged.body,
                    MessageStatus.PENDING.value,
                    utc_now(),
                ),
            )
        message = self.get(staged.message_id)
        assert message is not None
        return message

    def record_attempt(self, message_id: str) -> int:
        """Count an attempt before it is made; returns the attempt's number."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox_message SET attempts = attempts + 1, last_attempt_at = ?"
                " WHERE message_id = ?",
                (utc_now(), message_id),
            )
            row = conn.execute(
                "SELECT attempts FROM outbox_message WHERE message_id = ?", (message_id,)
            ).fetchone()
        return int(row["attempts"])

    def record_failure(self, message_id: str, error: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox_message SET last_error = ? WHERE message_id = ?",
                (error[:2000], message_id),
            )

    def mark_published(
        self,
        relay: str,
        message_id: str,
        broker_stream: str,
        broker_seq: int,
        duplicate: bool,
        checkpoint: int | None,
    ) -> None:
        """The broker acknowledged: the message is published and, in the same transaction, the
        checkpoint moves to `checkpoint` (None: a retried message behind the checkpoint)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox_message SET status = ?, published_at = ?, broker_stream = ?,"
                " broker_seq = ?, duplicate = ?, last_error = NULL WHERE message_id = ?",
                (
                    MessageStatus.PUBLISHED.value,
                    utc_now(),
                    broker_stream,
                    broker_seq,
                    int(duplicate),
                    message_id,
                ),
            )
            if checkpoint is not None:
                _advance(conn, relay, checkpoint)

    def park(self, relay: str, message_id: str, error: str, checkpoint: int | None) -> None:
        """Give up on the message for now (kept, visible, retryable); the checkpoint moves past."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox_message SET status = ?, last_error = ? WHERE message_id = ?",
                (MessageStatus.PARKED.value, error[:2000], message_id),
            )
            if checkpoint is not None:
                _advance(conn, relay, checkpoint)

    def request_retry(self, message_id: str | None = None) -> int:
        """Ask the relay to publish parked messages again (one, or all when None)."""
        with self._tx() as conn:
            if message_id is None:
                cursor = conn.execute(
                    "UPDATE outbox_message SET status = ? WHERE status = ?",
                    (MessageStatus.RETRY_REQUESTED.value, MessageStatus.PARKED.value),
                )
            else:
                cursor = conn.execute(
                    "UPDATE outbox_message SET status = ? WHERE message_id = ? AND status = ?",
                    (MessageStatus.RETRY_REQUESTED.value, message_id, MessageStatus.PARKED.value),
                )
        return cursor.rowcount

    def get(self, message_id: str) -> OutboxMessage | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM outbox_message WHERE message_id = ?", (message_id,)
            ).fetchone()
        return None if row is None else _message(row)

    def messages(
        self, status: MessageStatus | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """Newest first."""
        with self._lock:
            if status is None:
                rows = self._conn.execute(
                    "SELECT * FROM outbox_message ORDER BY position DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT * FROM outbox_message WHERE status = ? ORDER BY position LIMIT ?",
                    (status.value, limit),
                ).fetchall()
        return [_message(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT status, COUNT(*) AS n FROM outbox_message GROUP BY status"
            ).fetchall()
        counts = {s.value: 0 for s in MessageStatus}
        counts.update({str(r["status"]): int(r["n"]) for r in rows})
        return counts

    def of_tenant(
        self, tenant_id: str, status: MessageStatus | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """Newest first, the messages of `tenant_id`'s streams only (`<category>-<tenant>` and
        `<category>-<tenant>_<id>`; tenant ids hold no `_` nor glob characters)."""
        where, args = _OF_TENANT, [tenant_id, tenant_id]
        if status is not None:
            where, args = f"{where} AND status = ?", [*args, status.value]
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM outbox_message WHERE {where} ORDER BY position DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [_message(r) for r in rows]

    def tenant_counts(self, tenant_id: str) -> dict[str, int]:
        """`counts()` of `tenant_id`'s streams only."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT status, COUNT(*) AS n FROM outbox_message WHERE {_OF_TENANT} "
                "GROUP BY status",
                (tenant_id, tenant_id),
            ).fetchall()
        counts = {s.value: 0 for s in MessageStatus}
        counts.update({str(r["status"]): int(r["n"]) for r in rows})
        return counts

    def publications_for(self, message_ids: list[str]) -> list[OutboxMessage]:
        """The rows of these messages (for the audit's side effects)."""
        if not message_ids:
            return []
        marks = ",".join("?" * len(message_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM outbox_message WHERE message_id IN ({marks})", message_ids
            ).fetchall()
        return [_message(r) for r in rows]


_OF_TENANT: Final = (
    "(substr(stream, instr(stream, '-') + 1) = ? "
    "OR substr(stream, instr(stream, '-') + 1) GLOB (? || '_*'))"
)
"""The rest of a stream name after its category is the tenant, or the tenant then `_`."""


def _advance(conn: sqlite3.Connection, relay: str, position: int) -> None:
    """Checkpoints only move forward."""
    conn.execute(
        "INSERT INTO outbox_checkpoint (relay, position, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (relay) DO UPDATE SET position = MAX(position, excluded.position),"
        " updated_at = excluded.updated_at",
        (relay, position, utc_now()),
    )


def _message(row: sqlite3.Row) -> OutboxMessage:
    duplicate = row["duplicate"]
    return OutboxMessage(
        message_id=row["message_id"],
        relay=row["relay"],
        position=int(row["position"]),
        stream=row["stream"],
        revision=int(row["revision"]),
        internal_type=row["internal_type"],
        contract=row["contract"],
        subject=row["subject"],
        body=row["body"],
        status=MessageStatus(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        created_at=row["created_at"],
        last_attempt_at=row["last_attempt_at"],
        published_at=row["published_at"],
        broker_stream=row["broker_stream"],
        broker_seq=row["broker_seq"],
        duplicate=None if duplicate is None else bool(duplicate),
    )
