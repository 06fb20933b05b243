"""`ReadOnlyStore`: another process's view of a durable store's file (the runner child's). It
reads through the store's own reading code exactly what the store answers, follows live
commits as its signal is told of them, and cannot write."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.eventstore.embedded.database import DataDirError
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore, ReadOnlyStore
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    EventStoreUnavailable,
    NewEvent,
    RecordedEvent,
)
from caseledger.projections.ports import Checkpoint


@pytest.fixture
def written(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "eventstore")
    yield store
    store.close()


@pytest.fixture
def read_only(written: EmbeddedStore) -> Iterator[ReadOnlyStore]:
    path = written.database.path
    assert path is not None
    store = ReadOnlyStore(path)
    yield store
    store.close()


def _noted(n: int) -> list[NewEvent]:
    return [NewEvent("case.noted", f'{{"n": {i}}}'.encode()) for i in range(n)]


def _history(feed: InProcessEventStore, head: int) -> list[RecordedEvent | Checkpoint]:
    """`$all` (the case category) from the start up to a checkpoint at `head`."""
    following = feed.follow_all(0, ["case"])
    items: list[RecordedEvent | Checkpoint] = []
    for page in following.pages():
        items += page
        if any(isinstance(item, Checkpoint) and item.position >= head for item in page):
            break
    following.stop()
    return items


def test_it_reads_what_the_store_answers(written: EmbeddedStore, read_only: ReadOnlyStore) -> None:
    writer = InProcessEventStore(written)
    stream = f"case-{uuid.uuid4().hex}"
    writer.append(stream, _noted(3), NO_STREAM)
    writer.append(f"case-{uuid.uuid4().hex}", _noted(2), NO_STREAM)
    reader = InProcessEventStore(read_only)

    assert reader.read_stream(stream) == writer.read_stream(stream)
    assert reader.head_position(["case"]) == writer.head_position(["case"])
    head = written.head
    assert _history(reader, head) == _history(writer, head)


def test_it_follows_live_commits_as_its_signal_is_told(
    written: EmbeddedStore, read_only: ReadOnlyStore
) -> None:
    written.signal.listen(read_only.signal.committed)  # what the socket pair carries
    reader = InProcessEventStore(read_only)
    following = reader.follow_all(read_only.head, ["case"])
    seen: list[RecordedEvent] = []
    got_two = threading.Event()

    def follow() -> None:
        for item in following:
            if isinstance(item, RecordedEvent):
                seen.append(item)
                if len(seen) == 2:
                    got_two.set()
                    return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    stream = f"case-{uuid.uuid4().hex}"
    InProcessEventStore(written).append(stream, _noted(2), NO_STREAM)
    assert got_two.wait(10)
    following.stop()
    thread.join(10)
    assert [(e.stream, e.revision) for e in seen] == [(stream, 0), (stream, 1)]


def test_it_cannot_write(written: EmbeddedStore, read_only: ReadOnlyStore) -> None:
    reader = InProcessEventStore(read_only)
    with pytest.raises(EventStoreUnavailable):
        reader.append(f"case-{uuid.uuid4().hex}", _noted(1), ANY)
    with read_only.database.reading() as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM events")
    assert written.head > 0  # the store's own (system) events are still there


def test_it_needs_a_store_file(tmp_path: Path) -> None:
    with pytest.raises(DataDirError):
        ReadOnlyStore(tmp_path / "nothing-here")
