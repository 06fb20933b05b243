"""The projection store on SQLite. WAL mode: the runner writes while queries read. Each thread
gets its own connection; a commit is one `BEGIN IMMEDIATE` transaction."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from caseledger.adapters.readstore.sql_store import Cursor, SqlProjectionStore


class SqliteProjectionStore(SqlProjectionStore):
    """`synchronous=NORMAL`: a crash may lose the last commits, never half of one; the
    checkpoint is lost with them, so the runner replays them."""

    placeholder = "?"
    migrations_package = "caseledger.adapters.readstore.sqlite.migrations"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self._path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=10000")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def _write(self) -> Iterator[Cursor]:
        connection = self._connection()
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            connection.rollback()
            raise
        else:
            connection.commit()
        finally:
            cursor.close()

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        cursor = self._connection().cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def _run_script(self, sql: str) -> None:
        self._connection().executescript(sql)

    def _encode(self, document: Mapping[str, Any]) -> Any:
        return orjson.dumps(document).decode()

    def _decode(self, stored: Any) -> dict[str, Any]:
        value = orjson.loads(stored)
        return value if isinstance(value, dict) else {}

    def _search_statement(self, table: str) -> str:
        columns = ", ".join(f"t.{c}" for c in self._columns[table])
        return (
            f"SELECT t.key, t.tenant_id, t.position, t.document, {columns}"
            f", -bm25({table}_fts) FROM {table}_fts JOIN {table} t ON t.rowid = {table}_fts.rowid "
            f"WHERE {table}_fts MATCH ? AND t.tenant_id = ? AND t.status = 'approved' "
            f"ORDER BY bm25({table}_fts) LIMIT ?"
        )

    def _search_text(self, text: str) -> str:
        """Every word must match (FTS5 syntax never reaches the index: words are quoted)."""
        words = re.findall(r"\w+", text)[:32]
        return " ".join(f'"{w}"' for w in words)

    def _any(self, column: str, values: Sequence[str]) -> str:
        return f"{column} IN ({', '.join('?' for _ in values)})"

    def _any_params(self, values: Sequence[str]) -> tuple[Any, ...]:
        return tuple(values)
