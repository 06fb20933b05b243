"""The projection store on PostgreSQL (psycopg 3). Documents are `jsonb`; evidence search is a
`tsvector` over approved evidence. Each thread gets its own connection; a commit is one
transaction. Small writes (live batches) are pipelined by `executemany`; a view's rows or a
commit's stream revisions from `bulk_rows` on are `COPY`'d into a temporary staging table and
upserted by one `INSERT ... SELECT` (catch-up batches): an `executemany` costs a statement per
row on both sides — psycopg's Python in the runner's thread and PostgreSQL's executor — so
a catch-up batch's rows never go through it."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb, set_json_loads

from caseledger.adapters.readstore.dialect import Dialect
from caseledger.adapters.readstore.sql_store import (
    REVISIONS_UPSERT,
    Cursor,
    SqlProjectionStore,
    identifier,
)
from caseledger.adapters.readstore.thread_connections import ThreadConnections
from caseledger.adapters.readstore.transient import postgres_transient, unavailable_when_transient
from caseledger.projections.rows import Row

_SCRIPT_LOCK = 72_140_001
"""Advisory lock key: two processes running migrations at once take turns."""

POSTGRES: Final = Dialect(
    name="postgres",
    migrations_package="caseledger.adapters.readstore.postgres.migrations",
    bigint="BIGINT",
    json="JSONB",
    double="DOUBLE PRECISION",
    without_rowid="",
)
_UPGRADES: Final = """
ALTER TABLE projection_versions ADD COLUMN IF NOT EXISTS generation BIGINT NOT NULL DEFAULT 0;
-- the serving build generation's storage name (NULL: <name>_v<version>, its first build)
ALTER TABLE active_projections ADD COLUMN IF NOT EXISTS projection_id TEXT;
"""
"""The read side's tables as stores made before retry and build generations lack them (a
no-op on the rest)."""

PLAN_CACHE_MODE = "force_custom_plan"
"""Each execution of a statement is planned for its parameters. psycopg prepares a statement
after its fifth execution, and PostgreSQL then keeps a generic plan if it costs no more than
the custom ones so far — costs taken while a rebuilt view's tables were nearly empty (and,
without an ANALYZE since, still believed). Kept, that plan looked up a batch's stream
revisions by `projection_id` alone, filtering every revision row of the view: a lookup that
grows with the view. A plan per execution uses the primary key whatever the table's size."""


def _dumps(document: Any) -> str:
    """Documents as JSON with orjson (as SQLite stores them), not the standard library's: the
    runner is bound by its one thread."""
    return orjson.dumps(document).decode()


class PostgresProjectionStore(SqlProjectionStore):
    placeholder = "%s"
    commits_off_the_interpreter = True
    chunk = 10_000
    dialect = POSTGRES

    def __init__(self, url: str, bulk_rows: int | None = 64) -> None:
        super().__init__()
        self._url = url
        self._bulk_rows = bulk_rows
        """Rows from which a write goes through `COPY` (None: never)."""
        self._connect_options: dict[str, Any] = (
            {} if "connect_timeout" in conninfo_to_dict(url) else {"connect_timeout": 10}
        )
        """A server that does not answer at all fails a connection attempt after 10 s (unless
        the URL says otherwise), so the runner reports itself stalled instead of hanging."""
        self._local = threading.local()
        self._connections: ThreadConnections[psycopg.Connection[Any]] = ThreadConnections(
            psycopg.Connection.close
        )

    def _connection(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.broken:
            if connection is not None:  # lost: closed by the server or after an error
                self._connections.discard(connection)
                self._local.staging = set()  # its temporary staging tables went with it
            connection = psycopg.connect(self._url, autocommit=True, **self._connect_options)
            connection.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
            set_json_loads(orjson.loads, connection)
            self._local.connection = connection
            self._connections.add(connection)
        return connection

    @property
    def open_connections(self) -> int:
        """Connections this store holds open (for tests and operators)."""
        return len(self._connections)

    def close(self) -> None:
        self._connections.close_all()
        self._local = threading.local()

    def _forget_connection(self) -> None:
        """After a transient failure: this thread's next call opens a fresh connection (a
        terminated session's connection is dead, and a temporary staging table with it)."""
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        self._local.connection = None
        self._local.staging = set()
        if connection is not None:
            self._connections.discard(connection)
            with contextlib.suppress(psycopg.Error):  # already gone
                connection.close()

    def _unavailable_when_transient(self) -> AbstractContextManager[None]:
        return unavailable_when_transient(postgres_transient, self._forget_connection)

    @contextmanager
    def _write(self) -> Iterator[Cursor]:
        with self._unavailable_when_transient():
            connection = self._connection()
            try:
                with connection.transaction(), connection.cursor() as cursor:
                    yield cursor
            except BaseException:
                self._local.staging = set()  # a staging table created in a rolled-back transaction
                raise

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._unavailable_when_transient(), self._connection().cursor() as cursor:
            yield cursor

    def migrate(self) -> None:
        """The read side's tables, and the columns older stores lack, in one script."""
        self._run_script(self._migration("readside") + _UPGRADES)

    def _run_script(self, sql: str) -> None:
        with self._unavailable_when_transient():
            connection = self._connection()
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCRIPT_LOCK,))
                connection.execute(sql.encode())

    def _run_in_transaction(self, cursor: Cursor, sql: str) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCRIPT_LOCK,))
        cursor.execute(sql.encode())

    def _index_names(self, table: str) -> set[str]:
        with self._read() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = to_regclass(%s) AND NOT i.indisprimary",
                (table,),
            )
            return {name for (name,) in cursor.fetchall()}

    def _encode(self, document: Mapping[str, Any]) -> Any:
        return Jsonb(dict(document), dumps=_dumps)

    def _decode(self, stored: Any) -> dict[str, Any]:
        return stored if isinstance(stored, dict) else {}

    def _put_rows(self, cursor: Cursor, table: str, rows: Sequence[Row]) -> None:
        if self._bulk_rows is None or len(rows) < self._bulk_rows:
            super()._put_rows(cursor, table, rows)
            return
        columns = ", ".join(self._all_columns(table))
        staging = self._staging(cursor, table, columns)
        with self._psycopg(cursor).copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(self._copied(table, row))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "
            f"ON CONFLICT (key) DO UPDATE SET {self._replace(table)}"
        )

    def _copied(self, table: str, row: Row) -> tuple[Any, ...]:
        """A row for `COPY`: the document as JSON text (the staging column parses it)."""
        extra = tuple(row.columns.get(c) for c in self._columns[table])
        return (row.key, row.tenant_id, row.position, _dumps(row.document), *extra)

    def _write_revisions(self, cursor: Cursor, revisions: Sequence[tuple[str, str, int]]) -> None:
        if self._bulk_rows is None or len(revisions) < self._bulk_rows:
            super()._write_revisions(cursor, revisions)
            return
        columns = "projection_id, stream, revision"
        staging = self._staging(cursor, "projection_stream_revisions", columns)
        with self._psycopg(cursor).copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for values in revisions:
                copy.write_row(values)
        cursor.execute(
            REVISIONS_UPSERT.replace("VALUES (?, ?, ?)", f"SELECT {columns} FROM {staging}")
        )

    def _staging(self, cursor: Cursor, table: str, columns: str) -> str:
        """This connection's staging table for `table`: temporary, emptied at every commit."""
        staging = identifier(f"{table}_staging")
        created: set[str] | None = getattr(self._local, "staging", None)
        if created is None:
            created = self._local.staging = set()
        if staging not in created:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
                f"SELECT {columns} FROM {table} WITH NO DATA"
            )
            created.add(staging)
        return staging

    @staticmethod
    def _psycopg(cursor: Cursor) -> psycopg.Cursor[Any]:
        assert isinstance(cursor, psycopg.Cursor)
        return cursor

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
