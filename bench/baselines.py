"""What the store's baselines share: the payload, and a raw SQLite database with the store's own
schema (WAL, fsync per commit), so a baseline differs from the store only by the store's code."""

from __future__ import annotations

import sqlite3
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

PAYLOAD = orjson.dumps({"case_id": "c-0001", "risk_level": "high", "note": "x" * 200})
INSERT = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)"


def sqlite_connection(path: Path) -> sqlite3.Connection:
    """The store's own schema (its `events` table and indexes), WAL, fsync per commit."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    schema = resources.files("caseledger.adapters.eventstore.embedded") / "schema.sql"
    conn.executescript(schema.read_text())
    return conn


def row(i: int) -> tuple[Any, ...]:
    """Event row `i` of one stream, carrying PAYLOAD."""
    return (i, "case-1", i, str(uuid.uuid4()), "t", "application/json", PAYLOAD, b"", 0)
