"""What the SQLite and PostgreSQL projection stores share: the statements and the one-transaction
commit. A view's table is `<name>_v<version>` with `key`, `tenant_id`, `position`, `document`
and the projection's declared columns; its migration (`schemas/<name>_v<version>.sql`, one
script for both dialects: `dialect.py`) creates it. Identifiers are checked against the
projection's own declarations, never taken from input.

Rule: **a version that serves has its secondary indexes.** A migration has two sections: the
tables (with their primary keys, which upserts need), run by `prepare`, and after the line
`-- indexes` the secondary indexes (dashboard, full-text), run when the version is activated,
in the activation's transaction, and by `prepare` for a version already active. A version
activated at once (`activate_unserved`: a new deployment) gets them on its empty tables before
it serves; a version built beside a serving one (a rebuild, blue/green) is written without
them and gets them, over its finished rows, when it is switched to. The index section is
idempotent (`IF NOT EXISTS`, guarded back-fills)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Final, Protocol

from caseledger.adapters.readstore.dialect import Dialect
from caseledger.projections.ports import (
    CheckpointConflict,
    Page,
    ParkedEvent,
    ProjectionBatch,
    ProjectionState,
    SearchHit,
)
from caseledger.projections.projection import Projection, base_of, generation_of, storage_id
from caseledger.projections.rows import Row, Scalar, ViewChanges

_IDENTIFIER: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
INDEXES: Final = re.compile(r"^-- indexes\b.*$", re.MULTILINE)
"""The line that starts a migration's index section."""
BASE_COLUMNS: Final = ("key", "tenant_id", "position", "document")
_PARKED_COLUMNS: Final = (
    "projection_id, position, event_id, stream, revision, event_type, reason, attempts"
)
REVISIONS_UPSERT: Final = (
    "INSERT INTO projection_stream_revisions (projection_id, stream, revision) "
    "VALUES (?, ?, ?) ON CONFLICT (projection_id, stream) "
    "DO UPDATE SET revision = excluded.revision"
)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...

    def executemany(self, sql: Any, params: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class UnknownView(Exception):
    """No projection of that name and version is prepared in this store."""


def identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


class SqlProjectionStore(ABC):
    """ProjectionStore and ViewReader over a SQL database (see the subclasses)."""

    placeholder: str = "?"
    commits_off_the_interpreter: bool = False
    dialect: ClassVar[Dialect]
    """How this store spells the shared schemas' tokens, and its own schemas."""
    chunk: int = 500
    """Keys per lookup query at most (SQLite binds one parameter per key)."""

    def __init__(self) -> None:
        self._columns: dict[str, tuple[str, ...]] = {}

    # -- what a backend provides ------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release the store's connections (and background work); the store is not used after."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one write transaction, committed on exit or rolled back on error."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Cursor]:
        """A cursor for reads that sees committed data."""

    @abstractmethod
    def _run_script(self, sql: str) -> None: ...

    @abstractmethod
    def _run_in_transaction(self, cursor: Cursor, sql: str) -> None:
        """Run the statements of `sql` (no parameters) inside the write transaction of `cursor`."""

    @abstractmethod
    def _encode(self, document: Mapping[str, Any]) -> Any: ...

    @abstractmethod
    def _decode(self, stored: Any) -> dict[str, Any]: ...

    @abstractmethod
    def _search_statement(self, table: str) -> str:
        """Params: text, tenant_id, limit; columns: the row's, then a score (higher is better)."""

    @abstractmethod
    def _search_text(self, text: str) -> str: ...

    @abstractmethod
    def _any(self, column: str, values: Sequence[str]) -> str:
        """A condition true when `column` is one of `values` (bound by `_any_params`)."""

    @abstractmethod
    def _any_params(self, values: Sequence[str]) -> tuple[Any, ...]: ...

    # -- ProjectionStore -------------------------------------------------------------------

    def migrate(self) -> None:
        """The read side's own tables: versions and checkpoints, active views, revisions, parked."""
        self._run_script(self._migration("readside"))

    def prepare(self, projection: Projection) -> None:
        """The version's tables without their secondary indexes, unless it already serves."""
        table = identifier(projection.id)
        self._columns[table] = tuple(identifier(c) for c in projection.columns)
        self.migrate()
        tables, indexes = self._sections(table)
        self._run_script(tables)
        with self._write() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO projection_versions (projection_id, name, version, position) "
                    "VALUES (?, ?, ?, -1) ON CONFLICT (projection_id) DO NOTHING"
                ),
                (table, projection.name, projection.version),
            )
            if self._served(cursor, projection.name) == table and indexes:
                self._run_in_transaction(cursor, indexes)

    def checkpoint(self, projection_id: str) -> int | None:
        with self._read() as cursor:
            cursor.execute(
                self._sql("SELECT position FROM projection_versions WHERE projection_id = ?"),
                (projection_id,),
            )
            found = cursor.fetchone()
        return None if found is None or found[0] < 0 else int(found[0])

    def generation(self, projection_id: str) -> int:
        with self._read() as cursor:
            cursor.execute(
                self._sql("SELECT generation FROM projection_versions WHERE projection_id = ?"),
                (projection_id,),
            )
            found = cursor.fetchone()
        return 0 if found is None else int(found[0])

    def first_parked(self, projection_id: str, stream: str) -> ParkedEvent | None:
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {_PARKED_COLUMNS} FROM parked_events "
                    "WHERE projection_id = ? AND stream = ? ORDER BY revision LIMIT 1"
                ),
                (projection_id, stream),
            )
            found = cursor.fetchone()
        return None if found is None else ParkedEvent(*found)

    def load_rows(self, projection_id: str, keys: Sequence[str]) -> dict[str, Row]:
        """The stored rows among `keys`: one query per chunk of keys (`chunk` keys each)."""
        table = self._table(projection_id)
        found: dict[str, Row] = {}
        with self._read() as cursor:
            for chunk in self._chunks(keys):
                cursor.execute(
                    f"SELECT {self._select(table)} FROM {table} WHERE {self._any('key', chunk)}",
                    self._any_params(chunk),
                )
                for values in cursor.fetchall():
                    row = self._row(table, values)
                    found[row.key] = row
        return found

    def load_revisions(self, projection_id: str, streams: Sequence[str]) -> dict[str, int]:
        """The stored revisions among `streams`: one query per chunk of streams."""
        found: dict[str, int] = {}
        with self._read() as cursor:
            for chunk in self._chunks(streams):
                cursor.execute(
                    self._sql(
                        "SELECT stream, revision FROM projection_stream_revisions "
                        "WHERE projection_id = ? AND "
                    )
                    + self._any("stream", chunk),
                    (projection_id, *self._any_params(chunk)),
                )
                found.update((stream, int(revision)) for stream, revision in cursor.fetchall())
        return found

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        with self._write() as cursor:
            self._advance_all(cursor, batches)
            for batch in batches:
                self._apply(cursor, batch.projection_id, batch.changes)
                self._park(cursor, batch.parked)
            self._write_revisions(
                cursor,
                [
                    (batch.projection_id, stream, revision)
                    for batch in batches
                    for stream, revision in batch.stream_revisions.items()
                ],
            )

    def parked(self, projection_id: str) -> list[ParkedEvent]:
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {_PARKED_COLUMNS} FROM parked_events WHERE projection_id = ? "
                    "ORDER BY position"
                ),
                (projection_id,),
            )
            return [ParkedEvent(*r) for r in cursor.fetchall()]

    def resolve_parked(
        self,
        projection_id: str,
        position: int | None,
        changes: ViewChanges,
        revisions: dict[str, int],
        resolved: Sequence[str],
        still_parked: Sequence[ParkedEvent] = (),
    ) -> None:
        with self._write() as cursor:
            cursor.execute(
                self._sql(
                    "UPDATE projection_versions SET generation = generation + 1 "
                    "WHERE projection_id = ? AND position = ?"
                ),
                (projection_id, -1 if position is None else position),
            )
            if cursor.rowcount != 1:
                stored = self._stored(cursor, projection_id)
                raise CheckpointConflict(projection_id, position, stored)
            self._apply(cursor, projection_id, changes)
            self._write_revisions(cursor, [(projection_id, s, r) for s, r in revisions.items()])
            if resolved:
                cursor.executemany(
                    self._sql("DELETE FROM parked_events WHERE projection_id = ? AND event_id = ?"),
                    [(projection_id, event_id) for event_id in resolved],
                )
            self._park(cursor, still_parked)

    def activate(self, name: str, version: int, generation: int = 1) -> None:
        projection_id = identifier(storage_id(name, version, generation))
        with self._write() as cursor:
            cursor.execute(
                self._sql("SELECT 1 FROM projection_versions WHERE projection_id = ?"),
                (projection_id,),
            )
            if cursor.fetchone() is None:
                raise UnknownView(f"{projection_id} was never prepared")
            _, indexes = self._sections(projection_id)
            if indexes:  # before it serves, in the switch's transaction
                self._run_in_transaction(cursor, indexes)
            cursor.execute(
                self._sql(
                    "INSERT INTO active_projections (name, version, projection_id) "
                    "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "version = excluded.version, projection_id = excluded.projection_id"
                ),
                (name, version, projection_id),
            )

    def serving_generation(self, name: str, version: int) -> int | None:
        with self._read() as cursor:
            served = self._served(cursor, name)
        if served is None or base_of(served) != storage_id(name, version):
            return None
        return generation_of(served)

    def reset(self, projection_id: str) -> None:
        table = self._table(projection_id)
        with self._write() as cursor:
            if self._served(cursor, self._name_of(cursor, table)) == table:
                raise ValueError(f"{table} serves: it cannot be emptied")
            cursor.execute(f"DELETE FROM {table}")
            for bookkeeping in ("projection_stream_revisions", "parked_events"):
                cursor.execute(
                    self._sql(f"DELETE FROM {bookkeeping} WHERE projection_id = ?"), (table,)
                )
            cursor.execute(
                self._sql(
                    "UPDATE projection_versions SET position = -1, generation = generation + 1 "
                    "WHERE projection_id = ?"
                ),
                (table,),
            )

    def switch(self, projection_id: str) -> bool:
        table = identifier(projection_id)
        with self._write() as cursor:
            name = self._name_of(cursor, table)
            served = self._served(cursor, name)
            new = self._stored(cursor, table)
            old = None if served is None else self._stored(cursor, served)
            if served is not None and (old or -1) > (-1 if new is None else new):
                return False
            _, indexes = self._sections(table)
            if indexes:  # before it serves, in the switch's transaction
                self._run_in_transaction(cursor, indexes)
            cursor.execute(
                self._sql(
                    "INSERT INTO active_projections (name, version, projection_id) "
                    "SELECT name, version, projection_id FROM projection_versions "
                    "WHERE projection_id = ? ON CONFLICT (name) DO UPDATE SET "
                    "version = excluded.version, projection_id = excluded.projection_id"
                ),
                (table,),
            )
            if served is not None and served != table:  # its runner's next batch is refused
                cursor.execute(
                    self._sql(
                        "UPDATE projection_versions SET generation = generation + 1 "
                        "WHERE projection_id = ?"
                    ),
                    (served,),
                )
        return True

    # -- leases -----------------------------------------------------------------------------

    def take_lease(self, name: str, holder: str, ttl: float, now: float) -> str:
        """Take or renew lease `name` for `holder` until `now + ttl` if it is free, expired
        or already `holder`'s; else note `holder` as a standby. The holder afterwards."""
        with self._write() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                    "expires_at = excluded.expires_at "
                    "WHERE leases.holder = excluded.holder OR leases.expires_at < ?"
                ),
                (name, holder, now + ttl, now),
            )
            cursor.execute(self._sql("SELECT holder FROM leases WHERE name = ?"), (name,))
            current = str(cursor.fetchone()[0])
            if current == holder:
                cursor.execute(
                    self._sql("DELETE FROM lease_standbys WHERE name = ? AND holder = ?"),
                    (name, holder),
                )
            else:
                cursor.execute(
                    self._sql(
                        "INSERT INTO lease_standbys (name, holder, seen_until) VALUES (?, ?, ?) "
                        "ON CONFLICT (name, holder) DO UPDATE SET seen_until = excluded.seen_until"
                    ),
                    (name, holder, now + ttl),
                )
        return current

    def release_lease(self, name: str, holder: str) -> None:
        """Give lease `name` up at once if `holder` holds it (a standby takes it at its next
        try), and forget `holder` as a standby."""
        with self._write() as cursor:
            cursor.execute(
                self._sql("DELETE FROM leases WHERE name = ? AND holder = ?"), (name, holder)
            )
            cursor.execute(
                self._sql("DELETE FROM lease_standbys WHERE name = ? AND holder = ?"),
                (name, holder),
            )

    def lease(self, name: str, now: float) -> tuple[str | None, list[str]]:
        """Lease `name`'s live holder (None: free or expired) and its live standbys."""
        with self._read() as cursor:
            cursor.execute(
                self._sql("SELECT holder FROM leases WHERE name = ? AND expires_at >= ?"),
                (name, now),
            )
            found = cursor.fetchone()
            cursor.execute(
                self._sql(
                    "SELECT holder FROM lease_standbys WHERE name = ? AND seen_until >= ? "
                    "ORDER BY holder"
                ),
                (name, now),
            )
            standbys = [str(row[0]) for row in cursor.fetchall()]
        return (None if found is None else str(found[0])), standbys

    def _served(self, cursor: Cursor, name: str) -> str | None:
        """The storage name of the generation that serves view `name`, if any."""
        cursor.execute(
            self._sql("SELECT version, projection_id FROM active_projections WHERE name = ?"),
            (name,),
        )
        found = cursor.fetchone()
        if found is None:
            return None
        return str(found[1]) if found[1] else storage_id(name, int(found[0]))

    def _name_of(self, cursor: Cursor, projection_id: str) -> str:
        cursor.execute(
            self._sql("SELECT name FROM projection_versions WHERE projection_id = ?"),
            (projection_id,),
        )
        found = cursor.fetchone()
        if found is None:
            raise UnknownView(f"{projection_id} was never prepared")
        return str(found[0])

    def states(self) -> list[ProjectionState]:
        with self._read() as cursor:
            cursor.execute(
                "SELECT v.projection_id, v.name, v.version, v.position, "
                "(SELECT COUNT(*) FROM parked_events p WHERE p.projection_id = v.projection_id), "
                "a.version, a.projection_id "
                "FROM projection_versions v LEFT JOIN active_projections a ON a.name = v.name "
                "ORDER BY v.name, v.version, v.projection_id"
            )
            states = []
            for pid, n, v, p, k, served_version, served_id in cursor.fetchall():
                served = None
                if served_version is not None:
                    served = served_id or storage_id(n, int(served_version))
                generation = generation_of(pid)
                position = None if p < 0 else int(p)
                state = ProjectionState(n, int(v), position, int(k), served == pid, generation)
                states.append(state)
            return states

    # -- ViewReader -----------------------------------------------------------------------

    def active_version(self, name: str) -> int | None:
        with self._read() as cursor:
            cursor.execute(
                self._sql("SELECT version FROM active_projections WHERE name = ?"), (name,)
            )
            found = cursor.fetchone()
        return None if found is None else int(found[0])

    def as_of(self, name: str) -> int | None:
        with self._read() as cursor:
            cursor.execute(
                self._sql("SELECT position FROM projection_versions WHERE projection_id = ?"),
                (self._served(cursor, name),),
            )
            found = cursor.fetchone()
        return None if found is None or found[0] < 0 else int(found[0])

    def get(self, name: str, tenant_id: str, key: str) -> Row | None:
        table = self._active_table(name)
        if table is None:
            return None
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {self._select(table)} FROM {table} WHERE key = ? AND tenant_id = ?"
                ),
                (key, tenant_id),
            )
            found = cursor.fetchone()
        return None if found is None else self._row(table, found)

    def find(
        self,
        name: str,
        tenant_id: str,
        equals: Mapping[str, Scalar],
        limit: int,
        offset: int = 0,
    ) -> Page:
        table = self._active_table(name)
        if table is None:
            return Page([], None)
        filters = [f"{self._column(table, c)} = ?" for c in equals]
        where = " AND ".join(["tenant_id = ?", *filters])
        with self._read() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {self._select(table)} FROM {table} WHERE {where} "
                    "ORDER BY position DESC, key LIMIT ? OFFSET ?"
                ),
                (tenant_id, *equals.values(), limit + 1, offset),
            )
            rows = [self._row(table, r) for r in cursor.fetchall()]
        more = len(rows) > limit
        return Page(rows[:limit], offset + limit if more else None)

    def search(self, name: str, tenant_id: str, text: str, limit: int) -> list[SearchHit]:
        table = self._active_table(name)
        query = self._search_text(text)
        if table is None or not query:
            return []
        with self._read() as cursor:
            cursor.execute(self._search_statement(table), (query, tenant_id, limit))
            return [SearchHit(self._row(table, r[:-1]), float(r[-1])) for r in cursor.fetchall()]

    # -- helpers --------------------------------------------------------------------------

    def _chunks(self, values: Sequence[str]) -> list[list[str]]:
        unique = list(dict.fromkeys(values))
        return [unique[i : i + self.chunk] for i in range(0, len(unique), self.chunk)]

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def _migration(self, name: str) -> str:
        script = self.dialect.schema(name)
        if script is None:
            raise UnknownView(f"no schema {name}.sql for {self.dialect.name}")
        return script

    def _sections(self, projection_id: str) -> tuple[str, str]:
        """A version's migration split into its tables and its index section ("" if none)."""
        base = base_of(projection_id)
        script = self._migration(base)
        if base != projection_id:  # a later build generation: the same tables, its own names
            script = script.replace(base, identifier(projection_id))
        found = INDEXES.search(script)
        if found is None:
            return script, ""
        return script[: found.start()], script[found.start() :]

    def indexed(self, projection_id: str) -> set[str]:
        """The secondary indexes `projection_id`'s table has now (for tests and operators)."""
        return self._index_names(identifier(projection_id))

    @abstractmethod
    def _index_names(self, table: str) -> set[str]: ...

    def _table(self, projection_id: str) -> str:
        table = identifier(projection_id)
        if table not in self._columns:
            raise UnknownView(f"{projection_id} is not prepared in this store")
        return table

    def _active_table(self, name: str) -> str | None:
        with self._read() as cursor:
            served = self._served(cursor, identifier(name))
        if served is None:
            return None
        table = identifier(served)
        if table not in self._columns:
            self._columns[table] = self._declared_columns(table)
        return table

    def _declared_columns(self, table: str) -> tuple[str, ...]:
        with self._read() as cursor:
            cursor.execute(f"SELECT * FROM {identifier(table)} LIMIT 0")
            names = [d[0] for d in cursor.description]
        return tuple(n for n in names if n not in BASE_COLUMNS and n != "search")

    def _column(self, table: str, column: str) -> str:
        if column not in self._columns[table]:
            raise ValueError(f"{table} has no filterable column {column!r}")
        return column

    def _select(self, table: str) -> str:
        return ", ".join((*BASE_COLUMNS, *self._columns[table]))

    def _row(self, table: str, values: Sequence[Any]) -> Row:
        key, tenant_id, position, document, *rest = values
        columns = dict(zip(self._columns[table], rest, strict=True))
        return Row(key, tenant_id, columns, self._decode(document), int(position))

    def _advance_all(self, cursor: Cursor, batches: Sequence[ProjectionBatch]) -> None:
        """Every batch's checkpoint moves in one statement, and each must move its own row: the
        row still at the checkpoint and generation the batch was built on. Otherwise (fewer
        rows moved than batches) `CheckpointConflict` names the first batch whose row is not
        where the batch would have moved it (or the first batch, when every row is: someone
        else committed the same range first), and the transaction rolls back."""
        if not batches:
            return
        cursor.executemany(
            self._sql(
                "UPDATE projection_versions SET position = ? "
                "WHERE projection_id = ? AND position = ? AND generation = ?"
            ),
            [
                (b.to_position, b.projection_id, _stored_position(b.from_position), b.generation)
                for b in batches
            ],
        )
        if cursor.rowcount == len(batches):
            return
        for batch in batches:
            cursor.execute(
                self._sql(
                    "SELECT position, generation FROM projection_versions WHERE projection_id = ?"
                ),
                (batch.projection_id,),
            )
            found = cursor.fetchone()
            if found is None or (int(found[0]), int(found[1])) != (
                batch.to_position,
                batch.generation,
            ):
                stored = None if found is None else int(found[0])
                raise CheckpointConflict(batch.projection_id, batch.from_position, stored)
        first = batches[0]
        raise CheckpointConflict(
            first.projection_id, first.from_position, self._stored(cursor, first.projection_id)
        )

    def _stored(self, cursor: Cursor, projection_id: str) -> int | None:
        cursor.execute(
            self._sql("SELECT position FROM projection_versions WHERE projection_id = ?"),
            (projection_id,),
        )
        found = cursor.fetchone()
        return None if found is None else int(found[0])

    def _apply(self, cursor: Cursor, projection_id: str, changes: ViewChanges) -> None:
        table = self._table(projection_id)
        puts = changes.puts
        if puts:
            self._put_rows(cursor, table, puts)
        removals = changes.removals
        if removals:
            cursor.executemany(
                self._sql(f"DELETE FROM {table} WHERE key = ?"), [(k,) for k in removals]
            )

    def _put_rows(self, cursor: Cursor, table: str, rows: Sequence[Row]) -> None:
        """Insert or replace `rows` (distinct keys) in `table`."""
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(self._all_columns(table))}) "
            f"VALUES ({', '.join(self.placeholder for _ in self._all_columns(table))}) "
            f"ON CONFLICT (key) DO UPDATE SET {self._replace(table)}",
            [self._values(table, row) for row in rows],
        )

    def _all_columns(self, table: str) -> tuple[str, ...]:
        return (*BASE_COLUMNS, *self._columns[table])

    def _replace(self, table: str) -> str:
        """The `DO UPDATE SET` list of an upsert: every column but the key."""
        return ", ".join(f"{c} = excluded.{c}" for c in self._all_columns(table)[1:])

    def _values(self, table: str, row: Row) -> tuple[Any, ...]:
        extra = tuple(row.columns.get(c) for c in self._columns[table])
        return (row.key, row.tenant_id, row.position, self._encode(row.document), *extra)

    def _write_revisions(self, cursor: Cursor, revisions: Sequence[tuple[str, str, int]]) -> None:
        """(projection id, stream, revision) rows of one commit, every projection's at once."""
        if not revisions:
            return
        cursor.executemany(self._sql(REVISIONS_UPSERT), revisions)

    def _park(self, cursor: Cursor, parked: Sequence[ParkedEvent]) -> None:
        if not parked:
            return
        cursor.executemany(
            self._sql(
                "INSERT INTO parked_events (projection_id, position, event_id, stream, revision, "
                "event_type, reason, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (projection_id, event_id) DO UPDATE SET reason = excluded.reason, "
                "attempts = parked_events.attempts + excluded.attempts"
            ),
            [
                (
                    p.projection_id,
                    p.position,
                    p.event_id,
                    p.stream,
                    p.revision,
                    p.event_type,
                    p.reason,
                    p.attempts,
                )
                for p in parked
            ],
        )


def _stored_position(checkpoint: int | None) -> int:
    """A checkpoint as `projection_versions` stores it: -1 for none yet."""
    return -1 if checkpoint is None else checkpoint
