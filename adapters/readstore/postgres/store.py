"""The projection store on PostgreSQL (psycopg 3). Documents are `jsonb`; evidence search is a
`tsvector` over approved evidence. Each thread gets its own connection; a commit is one
transaction, with batch statements pipelined by `executemany`."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_loads

from caseledger.adapters.readstore.sql_store import Cursor, SqlProjectionStore

_SCRIPT_LOCK = 72_140_001
"""Advisory lock key: two processes running migrations at once take turns."""


def _dumps(document: Any) -> str:
    """Documents as JSON with orjson (as SQLite stores them): several times faster than the
    standard library's, and the runner is bound by its one thread."""
    return orjson.dumps(document).decode()


class PostgresProjectionStore(SqlProjectionStore):
    placeholder = "%s"
    chunk = 10_000
    migrations_package = "caseledger.adapters.readstore.postgres.migrations"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[psycopg.Connection[Any]] = []

    def _connection(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = psycopg.connect(self._url, autocommit=True)
            set_json_loads(orjson.loads, connection)
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
        with connection.transaction(), connection.cursor() as cursor:
            yield cursor

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._connection().cursor() as cursor:
            yield cursor

    def _run_script(self, sql: str) -> None:
        connection = self._connection()
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCRIPT_LOCK,))
            connection.execute(sql.encode())

    def _encode(self, document: Mapping[str, Any]) -> Any:
        return Jsonb(dict(document), dumps=_dumps)

    def _decode(self, stored: Any) -> dict[str, Any]:
        return stored if isinstance(stored, dict) else {}

    def _search_statement(self, table: str) -> str:
        columns = ", ".join(f"t.{c}" for c in self._columns[table])
        return (
            f"SELECT t.key, t.tenant_id, t.position, t.document, {columns}, "
            "ts_rank(t.search, q) FROM "
            f"{table} t, to_tsquery('english', %s) q "
            "WHERE t.search @@ q AND t.tenant_id = %s AND t.status = 'approved' "
            "ORDER BY ts_rank(t.search, q) DESC, t.key LIMIT %s"
        )

    def _search_text(self, text: str) -> str:
        """Every word must match; words only, so no tsquery syntax reaches the parser."""
        words = re.findall(r"\w+", text)[:32]
        return " & ".join(words)

    def _any(self, column: str, values: Sequence[str]) -> str:
        return f"{column} = ANY(%s)"

    def _any_params(self, values: Sequence[str]) -> tuple[Any, ...]:
        return (list(values),)
