"""Group commit: appends that arrive while a commit is under way share the next one (one
transaction, one fsync), each acknowledged only once it is durable; AppendRecords is answered
on its own few threads, however many clients call at once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient, NewRecord

from caseledger.adapters.eventstore.embedded import v2_streams_service
from caseledger.adapters.eventstore.embedded.database import Database, events_at
from caseledger.adapters.eventstore.embedded.records import EXPECT_ANY, Appended, ProposedEvent
from caseledger.adapters.eventstore.embedded.server import APPEND_WORKERS, EmbeddedServer
from caseledger.adapters.eventstore.embedded.transactions import Transaction
from caseledger.adapters.eventstore.embedded.writer import CommitGroup, Writer

WAITING = 12


def _event() -> ProposedEvent:
    return ProposedEvent(str(uuid.uuid4()), "case.noted", "application/json", b"{}", b"")


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_appends_queued_behind_a_commit_share_the_next_one(tmp_path: Path) -> None:
    commits: list[int] = []
    database = Database(tmp_path)
    writer = Writer(database, commits.append)
    in_commit, finish = threading.Event(), threading.Event()

    def slow(group: CommitGroup) -> str:
        in_commit.set()
        finish.wait(timeout=10)
        return "decided"

    first = threading.Thread(target=writer.transact, args=(slow,))
    first.start()
    assert in_commit.wait(timeout=10)
    outcomes: dict[int, object] = {}

    def append(i: int) -> None:
        outcomes[i] = writer.append(f"case-{i}", EXPECT_ANY, [_event()])

    waiting = [threading.Thread(target=append, args=(i,)) for i in range(WAITING)]
    for thread in waiting:
        thread.start()
    _until(lambda: writer.queued == WAITING)
    assert outcomes == {}  # nobody is answered before their commit
    finish.set()
    for thread in [first, *waiting]:
        thread.join(timeout=10)

    assert len(commits) == 1  # the slow group wrote nothing; all twelve went in one commit
    appended = [outcome for outcome in outcomes.values() if isinstance(outcome, Appended)]
    assert len(appended) == WAITING
    assert commits == [max(outcome.position for outcome in appended)]
    for i in range(WAITING):
        assert len(events_at(database.writer, f"case-{i}", 0, 5)) == 1


def test_append_records_is_answered_on_its_own_threads_for_any_number_of_callers(
    embedded_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads_seen: set[str] = set()
    commit = v2_streams_service.transactions.commit

    def recorded(writer: Writer, transaction: Transaction) -> object:
        threads_seen.add(threading.current_thread().name)
        return commit(writer, transaction)

    monkeypatch.setattr(v2_streams_service.transactions, "commit", recorded)
    callers = 3 * APPEND_WORKERS
    clients = [KurrentDBClient(uri=embedded_server.url) for _ in range(callers)]
    start = threading.Barrier(callers)
    answered: list[int] = []

    def call(i: int) -> None:
        start.wait()
        for n in range(5):
            clients[i].append_records(NewRecord(stream_name=f"case-{i}", type="t", data=b"{}"))
            answered.append(n)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for client in clients:
        client.close()

    assert len(answered) == 5 * callers
    assert threads_seen
    assert all(name.startswith("eventstore-append") for name in threads_seen)
    assert len(threads_seen) <= APPEND_WORKERS
