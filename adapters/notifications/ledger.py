"""The worker's own records (SQLite): one delivery row per (notice, approved digest) — keyed by
its deterministic Message-ID — and the inbox, in one database so the inbox record and the
delivery's final status commit together.

A request the worker gives up on (terminated at the broker: malformed, for another tenant's or
a closed notice, or for a notice still unknown after its bounded wait) is kept in
`dropped_request` with the reason, so it is never dropped silently.

Delivery statuses: `attempting` (an attempt is recorded *before* the SMTP transaction: after a
crash the worker resends under the same Message-ID), `delivered` (the SMTP server accepted it),
`recorded` (`NoticeSent` is committed; the inbox holds the request's message id).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from caseledger.adapters.integration.durable_sqlite import DurableSqliteFile, utc_now
from caseledger.adapters.integration.inbox import SqliteInbox

NOTIFICATIONS_FILE: Final = "notifications.sqlite3"
CONSUMER: Final = "notification-worker"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS notice_delivery (
    message_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    draft_id TEXT NOT NULL,
    send_request_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    request_event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    first_attempt_at TEXT,
    last_attempt_at TEXT,
    delivered_at TEXT,
    recorded_at TEXT
);
CREATE TABLE IF NOT EXISTS dropped_request (
    request_message_id TEXT PRIMARY KEY,
    tenant_id TEXT,
    draft_id TEXT,
    reason TEXT NOT NULL,
    deliveries INTEGER NOT NULL,
    dropped_at TEXT NOT NULL
);
"""


class DeliveryStatus(StrEnum):
    ATTEMPTING = "attempting"
    DELIVERED = "delivered"
    RECORDED = "recorded"


@dataclass(frozen=True)
class Delivery:
    message_id: str
    tenant_id: str
    draft_id: str
    send_request_id: str
    digest: str
    request_event_id: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    first_attempt_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None
    recorded_at: str | None


@dataclass(frozen=True)
class DroppedRequest:
    request_message_id: str
    tenant_id: str | None
    draft_id: str | None
    reason: str
    deliveries: int
    """How many times the broker had delivered it when it was dropped."""
    dropped_at: str


class DeliveryLedger(DurableSqliteFile):
    def __init__(self, path: Path | str) -> None:
        super().__init__(path, _SCHEMA)
        self.inbox = SqliteInbox(self._conn, CONSUMER, self._lock)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> DeliveryLedger:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / NOTIFICATIONS_FILE)

    def get(self, message_id: str) -> Delivery | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM notice_delivery WHERE message_id = ?", (message_id,)
            ).fetchone()
        return None if row is None else _delivery(row)

    def for_drafts(self, draft_ids: list[str]) -> list[Delivery]:
        if not draft_ids:
            return []
        marks = ",".join("?" * len(draft_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM notice_delivery WHERE draft_id IN ({marks})", draft_ids
            ).fetchall()
        return [_delivery(r) for r in rows]

    def record_attempt(
        self,
        message_id: str,
        tenant_id: str,
        draft_id: str,
        send_request_id: str,
        digest: str,
        request_event_id: str,
    ) -> Delivery:
        """Durably count an attempt before the SMTP transaction starts."""
        now = utc_now()
        with self._lock:
            self._conn.execute(
                "INSERT INTO notice_delivery (message_id, tenant_id, draft_id, send_request_id,"
                " digest, request_event_id, status, attempts, first_attempt_at, last_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (message_id) DO UPDATE SET attempts = attempts + 1,"
                " last_attempt_at = excluded.last_attempt_at",
                (
                    message_id,
                    tenant_id,
                    draft_id,
                    send_request_id,
                    digest,
                    request_event_id,
                    DeliveryStatus.ATTEMPTING.value,
                    now,
                    now,
                ),
            )
        delivery = self.get(message_id)
        assert delivery is not None
        return delivery

    def record_failure(self, message_id: str, error: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE notice_delivery SET last_error = ? WHERE message_id = ?",
                (error[:2000], message_id),
            )

    def mark_delivered(self, message_id: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE notice_delivery SET status = ?, delivered_at = ?, last_error = NULL"
                " WHERE message_id = ? AND status = ?",
                (
                    DeliveryStatus.DELIVERED.value,
                    utc_now(),
                    message_id,
                    DeliveryStatus.ATTEMPTING.value,
                ),
            )

    def record_dropped(
        self,
        request_message_id: str,
        tenant_id: str | None,
        draft_id: str | None,
        reason: str,
        deliveries: int,
    ) -> None:
        """Keep why a request was given up; a repeat (after a crash before the broker heard
        of it) overwrites the first record."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO dropped_request VALUES (?, ?, ?, ?, ?, ?)",
                (request_message_id, tenant_id, draft_id, reason[:2000], deliveries, utc_now()),
            )

    def dropped(self, limit: int = 100) -> list[DroppedRequest]:
        """The requests given up, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM dropped_request ORDER BY dropped_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [DroppedRequest(**dict(row)) for row in rows]

    def mark_recorded(self, request_message_id: str, message_id: str) -> bool:
        """`NoticeSent` is committed: the delivery is final and the request's message id enters
        the inbox, in one transaction. False if the inbox already held it."""

        def finish(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE notice_delivery SET status = ?, recorded_at = ? WHERE message_id = ?",
                (DeliveryStatus.RECORDED.value, utc_now(), message_id),
            )

        return self.inbox.process(request_message_id, finish) is not None


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        message_id=row["message_id"],
        tenant_id=row["tenant_id"],
        draft_id=row["draft_id"],
        send_request_id=row["send_request_id"],
        digest=row["digest"],
        request_event_id=row["request_event_id"],
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        first_attempt_at=row["first_attempt_at"],
        last_attempt_at=row["last_attempt_at"],
        delivered_at=row["delivered_at"],
        recorded_at=row["recorded_at"],
    )
