"""Which read-store failures are transient (the runner waits) and which belong to one event (the
runner parks it): the SQLSTATE classes and SQLite codes the contract names, and nothing else."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors

from caseledger.adapters.readstore.transient import postgres_transient, sqlite_transient


@pytest.mark.parametrize(
    "sqlstate",
    [
        "08000",
        "08006",
        "08001",
        "53100",
        "53200",
        "53300",
        "57P01",
        "57P02",
        "57P03",
        "40001",
        "40P01",
    ],
)
def test_connection_resource_shutdown_serialization_and_deadlock_states_are_transient(
    sqlstate: str,
) -> None:
    error = errors.lookup(sqlstate)("the server says no")

    reason = postgres_transient(error)

    assert reason is not None
    assert reason.startswith(f"PostgreSQL {sqlstate}: the server says no")


@pytest.mark.parametrize("sqlstate", ["22001", "23505", "42P01", "22P02", "57014", "55000"])
def test_data_constraint_and_statement_errors_are_not_transient(sqlstate: str) -> None:
    assert postgres_transient(errors.lookup(sqlstate)("one event's problem")) is None


def test_a_lost_connection_without_a_sqlstate_is_transient() -> None:
    lost = psycopg.OperationalError("server closed the connection unexpectedly")

    assert postgres_transient(lost) == (
        "PostgreSQL connection: server closed the connection unexpectedly"
    )
    assert postgres_transient(ValueError("not a database error")) is None


def sqlite_error(code: int, message: str) -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (sqlite3.SQLITE_BUSY, "SQLITE_BUSY"),
        (sqlite3.SQLITE_LOCKED, "SQLITE_LOCKED"),
        (sqlite3.SQLITE_FULL, "SQLITE_FULL"),
        (sqlite3.SQLITE_IOERR, "SQLITE_IOERR"),
        (sqlite3.SQLITE_IOERR_FSYNC, "SQLITE_IOERR"),
        (sqlite3.SQLITE_BUSY_SNAPSHOT, "SQLITE_BUSY"),
    ],
)
def test_busy_locked_full_and_io_errors_are_transient_by_their_primary_code(
    code: int, name: str
) -> None:
    assert sqlite_transient(sqlite_error(code, "database is locked")) == (
        f"SQLite {name}: database is locked"
    )


@pytest.mark.parametrize(
    "code", [sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_ERROR, sqlite3.SQLITE_TOOBIG]
)
def test_other_sqlite_errors_are_not_transient(code: int) -> None:
    assert sqlite_transient(sqlite_error(code, "one event's problem")) is None


def test_a_real_busy_database_is_transient(tmp_path: object) -> None:
    path = f"{tmp_path}/busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("INSERT INTO t VALUES (1)")
    finally:
        other.close()
        holder.close()
    assert (sqlite_transient(caught.value) or "").startswith("SQLite SQLITE_BUSY")
