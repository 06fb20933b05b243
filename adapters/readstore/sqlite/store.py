"""The projection store on SQLite. WAL mode: the runner writes while queries read. Each thread
gets its own connection, closed after the thread ends (when the next one is opened: threads that
come and go leave at most one behind); a commit is one `BEGIN IMMEDIATE` transaction. The WAL is
copied back into the database by a background thread (every `checkpoint_interval` seconds, once
the store has written), never by whichever commit crosses SQLite's auto-checkpoint threshold: a
live commit must not pay for that copy and its fsync (the runner's lag)."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import orjson

from caseledger.adapters.readstore.dialect import Dialect
from caseledger.adapters.readstore.sql_store import Cursor, SqlProjectionStore
from caseledger.adapters.readstore.thread_connections import ThreadConnections
from caseledger.adapters.readstore.transient import sqlite_transient, unavailable_when_transient
from caseledger.projections.ports import ProjectionBatch

log = logging.getLogger(__name__)

SQLITE: Final = Dialect(
    name="sqlite",
    migrations_package="caseledger.adapters.readstore.sqlite.migrations",
    bigint="INTEGER",
    json="TEXT",
    double="REAL",
    without_rowid=" WITHOUT ROWID",
)


class SqliteProjectionStore(SqlProjectionStore):
    """`synchronous=NORMAL`: a crash may lose the last commits, never half of one; the
    checkpoint is lost with them, so the runner replays them."""

    placeholder = "?"
    commits_off_the_interpreter = False
    """SQLite writes in this process: the runner commits one batch at a time."""
    dialect = SQLITE

    def __init__(
        self,
        path: Path | str,
        checkpoint_interval: float = 1.0,
        busy_timeout: float = 10.0,
        commit_busy_timeout: float = 1.0,
    ) -> None:
        super().__init__()
        self._path = str(path)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        """How long a statement waits for a lock another connection holds before SQLITE_BUSY."""
        self._commit_busy_timeout_ms = int(commit_busy_timeout * 1000)
        """The same for a runner's commit: shorter, because the runner retries a busy commit
        and reports itself `stalled` meanwhile (an operator sees why nothing moves)."""
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: ThreadConnections[sqlite3.Connection] = ThreadConnections(
            sqlite3.Connection.close
        )
        self._checkpoint_interval = checkpoint_interval
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()
        self.wal_checkpoints = 0
        """WAL checkpoints the background thread has run (for tests and operators)."""

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
            self._local.connection = connection
            self._connections.add(connection)
        return connection

    @property
    def open_connections(self) -> int:
        """Connections this store holds open (for tests and operators)."""
        return len(self._connections)

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join(10)
            self._checkpointer = None
        self._connections.close_all()
        self._local = threading.local()
        self._closing.clear()

    def checkpoint_wal(self) -> None:
        """Copy the WAL into the database without blocking readers or the writer (PASSIVE)."""
        self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.wal_checkpoints += 1

    def _checkpoint_in_background(self) -> None:
        with self._lock:
            if self._checkpointer is not None:
                return
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="sqlite-wal-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        while not self._closing.wait(self._checkpoint_interval):
            try:
                self.checkpoint_wal()
            except sqlite3.Error as error:  # busy or closing: the next round tries again
                log.warning("WAL checkpoint of %s failed: %s", self._path, error)
        try:
            self.checkpoint_wal()
        except sqlite3.Error as error:
            log.warning("final WAL checkpoint of %s failed: %s", self._path, error)

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        connection = self._connection()
        connection.execute(f"PRAGMA busy_timeout={self._commit_busy_timeout_ms}")
        try:
            super().commit(batches)
        finally:
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")

    def migrate(self) -> None:
        super().migrate()
        with unavailable_when_transient(sqlite_transient):
            connection = self._connection()
            info = connection.execute("PRAGMA table_info(projection_versions)").fetchall()
            if "generation" not in {column[1] for column in info}:  # made before generations
                connection.execute(
                    "ALTER TABLE projection_versions "
                    "ADD COLUMN generation INTEGER NOT NULL DEFAULT 0"
                )
            info = connection.execute("PRAGMA table_info(active_projections)").fetchall()
            if "projection_id" not in {column[1] for column in info}:  # before build generations
                connection.execute("ALTER TABLE active_projections ADD COLUMN projection_id TEXT")

    @contextmanager
    def _write(self) -> Iterator[Cursor]:
        if self._checkpointer is None:
            self._checkpoint_in_background()
        with unavailable_when_transient(sqlite_transient):
            connection = self._connection()
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                connection.commit()
            except BaseException:
                if connection.in_transaction:  # also after a commit that failed (busy, I/O)
                    connection.rollback()
                raise
            finally:
                cursor.close()

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with unavailable_when_transient(sqlite_transient):
            cursor = self._connection().cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    def _run_script(self, sql: str) -> None:
        with unavailable_when_transient(sqlite_transient):
            self._connection().executescript(sql)

    def _run_in_transaction(self, cursor: Cursor, sql: str) -> None:
        for statement in _statements(sql):
            cursor.execute(statement)

    def _index_names(self, table: str) -> set[str]:
        """Its indexes, and the full-text table and triggers that keep it."""
        with self._read() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE sql IS NOT NULL AND name != ? "
                "AND (tbl_name = ? AND type IN ('index', 'trigger') OR name = ?)",
                (table, table, f"{table}_fts"),
            )
            return {name for (name,) in cursor.fetchall()}

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


def _statements(script: str) -> Iterator[str]:
    """The statements of `script` one by one (a trigger's body is part of its statement)."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip("; \n"):
                yield statement
            statement = ""
