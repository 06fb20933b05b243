"""The embedded store's write transaction (`Database.writing`): commit, roll back, and a COMMIT
that fails (disk full, I/O error) must not leave the writer stuck in an open transaction: the
group fails, the next one commits."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from caseledger.adapters.eventstore.embedded.database import Database, events_at
from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_NO_STREAM,
    FIRST_POSITION,
    Appended,
    ProposedEvent,
)
from caseledger.adapters.eventstore.embedded.writer import CommitGroup, WriteFailed, Writer


def _with_deferred_check(database: Database) -> sqlite3.Connection:
    """A table whose constraint is checked only at COMMIT: a real way to make COMMIT fail."""
    conn = database.writer
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    return conn


def _write(database: Database, *statements: str, fail: bool = False) -> None:
    with database.writing() as writing:
        for statement in statements:
            writing.execute(statement)
        if fail:
            raise RuntimeError("the decision failed")


@pytest.fixture(params=["durable", "in-memory"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    return Database(tmp_path if request.param == "durable" else None)


def test_a_transaction_commits_what_it_wrote(database: Database) -> None:
    conn = _with_deferred_check(database)
    _write(database, "INSERT INTO parent VALUES (1)")
    assert not conn.in_transaction
    assert conn.execute("SELECT id FROM parent").fetchall() == [(1,)]


def test_an_exception_inside_rolls_everything_back(database: Database) -> None:
    conn = _with_deferred_check(database)
    with pytest.raises(RuntimeError):
        _write(database, "INSERT INTO parent VALUES (1)", fail=True)
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM parent").fetchone() == (0,)


def test_a_failed_commit_is_raised_rolled_back_and_the_next_transaction_starts_clean(
    database: Database,
) -> None:
    conn = _with_deferred_check(database)
    with pytest.raises(sqlite3.IntegrityError):  # no parent 1: refused only at COMMIT
        _write(database, "INSERT INTO parent VALUES (7)", "INSERT INTO child VALUES (1)")
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM parent").fetchone() == (0,)
    _write(database, "INSERT INTO parent VALUES (1)", "INSERT INTO child VALUES (1)")
    assert conn.execute("SELECT parent FROM child").fetchall() == [(1,)]


def test_a_failed_commit_releases_the_in_memory_store_for_other_threads() -> None:
    database = Database(None)
    _with_deferred_check(database)
    with pytest.raises(sqlite3.IntegrityError):
        _write(database, "INSERT INTO child VALUES (1)")
    read: list[int] = []

    def reader() -> None:
        with database.reading() as conn:
            read.append(conn.execute("SELECT count(*) FROM child").fetchone()[0])

    thread = threading.Thread(target=reader)
    thread.start()
    thread.join(timeout=5)
    assert read == [0]


def test_the_writer_goes_on_after_a_group_whose_commit_failed(database: Database) -> None:
    _with_deferred_check(database)
    writer = Writer(database, on_commit=lambda head: None)

    def refused_at_commit(group: CommitGroup) -> str:
        group.conn.execute("INSERT INTO child VALUES (1)")
        return "decided"

    with pytest.raises(WriteFailed, match="nothing was written") as failed:
        writer.transact(refused_at_commit)
    assert isinstance(failed.value.__cause__, sqlite3.IntegrityError)
    assert writer.head_position == 0
    event = ProposedEvent(str(uuid.uuid4()), "case.opened", "application/json", b"{}", b"")
    outcome = writer.append("case-1", EXPECT_NO_STREAM, [event])
    assert outcome == Appended(revision=0, position=FIRST_POSITION)
    assert [e.event_id for e in events_at(database.writer, "case-1", 0, 10)] == [event.event_id]
