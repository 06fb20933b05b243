"""The in-process adapter (`InProcessEventStore`, on the embedded store's own storage and
writer) passes the EventStore contract; beside the gRPC adapter on one embedded store it shares
one writer and one `$all`."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator

import orjson
import pytest
from kurrentdbclient import KurrentDBClient, StreamState

from caseledger.adapters.eventstore.deadlines import within
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    EventStore,
    EventStoreUnavailable,
    NewEvent,
    RecordedEvent,
    StreamNotFound,
    StreamWrite,
    WrongExpectedVersion,
)
from caseledger.projections.ports import Checkpoint
from tests.contract.event_store import EventStoreContract


class TestInProcessEventStore(EventStoreContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        server: EmbeddedServer = request.getfixturevalue("embedded_server")
        yield InProcessEventStore(server.store)


@pytest.fixture
def local(embedded_server: EmbeddedServer) -> InProcessEventStore:
    return InProcessEventStore(embedded_server.store)


@pytest.fixture
def remote(embedded_server: EmbeddedServer) -> Iterator[KurrentEventStore]:
    store = KurrentEventStore.connect(embedded_server.url)
    yield store
    store.close()


def _noted(n: int = 1) -> list[NewEvent]:
    return [NewEvent("case.noted", f'{{"n": {i}}}'.encode()) for i in range(n)]


def _stream() -> str:
    return f"case-{uuid.uuid4().hex}"


def test_writers_on_both_paths_share_revisions_positions_and_all_order(
    local: InProcessEventStore, remote: KurrentEventStore
) -> None:
    stream = _stream()
    results = []
    for turn in range(6):
        writer: InProcessEventStore | KurrentEventStore = remote if turn % 2 else local
        results.append(writer.append(stream, _noted(), turn - 1 if turn else NO_STREAM))

    assert [r.revision for r in results] == list(range(6))
    positions = [r.commit_position for r in results]
    assert positions == sorted(set(positions))
    assert local.read_stream(stream) == remote.read_stream(stream)
    assert local.head_position() == remote.head_position() == positions[-1]
    with pytest.raises(WrongExpectedVersion) as raised:
        remote.append(stream, _noted(), 2)
    assert raised.value.actual == 5


def test_concurrent_writers_on_both_paths_never_share_a_revision(
    local: InProcessEventStore, remote: KurrentEventStore
) -> None:
    stream = _stream()
    local.append(stream, _noted(), NO_STREAM)

    def write(store: InProcessEventStore | KurrentEventStore) -> None:
        for _ in range(20):
            store.append(stream, _noted(), ANY)

    threads = [threading.Thread(target=write, args=(s,)) for s in (local, remote, local, remote)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    read = remote.read_stream(stream)
    assert [e.revision for e in read] == list(range(81))
    assert [e.commit_position for e in read] == sorted({e.commit_position for e in read})


def test_a_subscription_on_one_path_sees_the_others_writes_once_in_order(
    local: InProcessEventStore, remote: KurrentEventStore
) -> None:
    stream = _stream()
    start = local.append(stream, _noted(), NO_STREAM).commit_position
    received: list[RecordedEvent] = []
    subscription = local.subscribe_all(start, categories=["case"])
    done = threading.Event()

    def consume() -> None:
        for event in subscription:
            received.append(event)
            if len(received) == 6:
                done.set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    for revision in range(1, 7):
        (remote if revision % 2 else local).append(stream, _noted(), revision - 1)

    assert done.wait(30)
    subscription.stop()
    consumer.join(30)
    assert not consumer.is_alive()
    assert [e.revision for e in received] == [1, 2, 3, 4, 5, 6]
    assert received == remote.read_stream(stream, 1)


def test_checked_appends_on_both_paths_refuse_what_the_other_moved(
    local: InProcessEventStore, remote: KurrentEventStore
) -> None:
    stream, policy = _stream(), f"policy-{uuid.uuid4().hex}"
    remote.append(policy, _noted(), NO_STREAM)
    local.append_checked(stream, _noted(), NO_STREAM, {policy: 0})
    remote.append(policy, _noted(), 0)

    with pytest.raises(WrongExpectedVersion) as raised:
        local.append_checked(stream, _noted(), 0, {policy: 0})

    assert (raised.value.stream, raised.value.actual) == (policy, 1)
    key = f"idempotency-{uuid.uuid4().hex}"
    written = local.append_checked(stream, _noted(), 0, {}, also=[StreamWrite(key, _noted(), -1)])
    assert written.revision == 1
    assert [e.revision for e in remote.read_stream(key)] == [0]


def test_deletions_made_over_grpc_hold_in_process(
    local: InProcessEventStore, kurrent_client: KurrentDBClient
) -> None:
    gone, emptied = _stream(), _stream()
    local.append(gone, _noted(), NO_STREAM)
    local.append(emptied, _noted(2), NO_STREAM)
    kurrent_client.tombstone_stream(gone, current_version=StreamState.ANY)
    kurrent_client.delete_stream(emptied, current_version=1)

    assert local.read_stream(gone) == []
    with pytest.raises(StreamNotFound):
        local.append(gone, _noted(), ANY)
    with pytest.raises(StreamNotFound):
        local.append_checked(gone, _noted(), ANY, {})
    assert local.read_stream(emptied) == []
    assert local.append(emptied, _noted(), NO_STREAM).revision == 2
    assert [e.revision for e in local.read_stream(emptied)] == [2]


def test_following_passes_checkpoints_across_events_it_does_not_follow(
    local: InProcessEventStore,
) -> None:
    start = local.append(_stream(), _noted(), NO_STREAM).commit_position
    last = 0
    for _ in range(400):
        last = local.append(f"commandlog-{uuid.uuid4().hex}", _noted(), NO_STREAM).commit_position
    following = local.follow_all(start, categories=["case"])
    checkpoints: list[int] = []
    for item in following:
        assert isinstance(item, Checkpoint)
        checkpoints.append(item.position)
        if item.position >= last:
            following.stop()

    assert checkpoints == sorted(checkpoints)
    assert len(checkpoints) >= 3
    assert checkpoints[-1] == last


def test_the_head_of_a_category_is_found_behind_many_newer_events_of_others(
    local: InProcessEventStore,
) -> None:
    case = local.append(_stream(), _noted(), NO_STREAM).commit_position
    others = local.append(f"commandlog-{uuid.uuid4().hex}", _noted(300), NO_STREAM)

    assert local.head_position(["case"]) == case
    assert local.head_position(["commandlog"]) == local.head_position() == others.commit_position


def test_following_a_page_at_a_time_hands_over_the_same_items_in_the_same_order(
    local: InProcessEventStore,
) -> None:
    start = local.append(_stream(), _noted(), NO_STREAM).commit_position
    for _ in range(3):  # more than a page of the feed; case events among others
        local.append(_stream(), _noted(333), NO_STREAM)
        last = local.append(f"commandlog-{uuid.uuid4().hex}", _noted(667), NO_STREAM)
    last_position = last.commit_position

    def until_last(items: Iterator[RecordedEvent | Checkpoint]) -> list[object]:
        taken: list[object] = []
        for item in items:
            taken.append(item)
            position = item.commit_position if isinstance(item, RecordedEvent) else item.position
            if position >= last_position:
                return taken
        return taken

    one_by_one = local.follow_all(start, categories=["case"])
    by_pages = local.follow_all(start, categories=["case"])
    pages = by_pages.pages()
    first = next(pages)
    expected = until_last(iter(one_by_one))
    paged = until_last(itertools.chain(first, itertools.chain.from_iterable(pages)))
    one_by_one.stop()
    by_pages.stop()

    assert paged == expected
    assert sum(isinstance(item, RecordedEvent) for item in expected) == 3 * 333  # after `start`
    assert len(first) > 1  # more than one item a hand-off


def test_a_write_that_cannot_get_its_turn_within_the_deadline_is_unavailable_and_not_written(
    local: InProcessEventStore, embedded_server: EmbeddedServer
) -> None:
    stream = _stream()
    writer = embedded_server.store.writer
    writer._commit_lock.acquire()  # a group commit that does not end
    try:
        with pytest.raises(EventStoreUnavailable), within(0.2):
            local.append(stream, _noted(), NO_STREAM)
        assert writer.queued == 0
    finally:
        writer._commit_lock.release()

    assert local.read_stream(stream) == []
    assert local.append(stream, _noted(), NO_STREAM).revision == 0


def test_a_closed_store_is_unavailable_to_writes(
    local: InProcessEventStore, embedded_server: EmbeddedServer
) -> None:
    embedded_server.stop(grace=1.0)

    with pytest.raises(EventStoreUnavailable):
        local.append(_stream(), _noted(), NO_STREAM)


@pytest.mark.parametrize(
    "metadata",
    [
        b'{"zeta": "1", "alpha": "2"}',
        b'{"zeta": "1", "$schema.format": "Json", "alpha": "2"}',
        b'{"zeta": "1", "\\u0024schema.format": "Json", "alpha": "2"}',
        b'{"zeta": "$schema.in a value", "alpha": "2"}',
        b'{"$schema.format": "Json"}',
    ],
)
def test_a_checked_append_keeps_metadata_as_the_grpc_path_does(
    local: InProcessEventStore, remote: KurrentEventStore, metadata: bytes
) -> None:
    """Record properties: keys sorted, system properties (`$schema.*`, however escaped) left
    out, the same on both paths."""
    streams = [_stream(), _stream()]
    for writer, stream in zip((local, remote), streams, strict=True):
        writer.append_checked(stream, [NewEvent("case.noted", b"{}", metadata)], NO_STREAM, {})

    (here,), (there,) = (local.read_stream(s) for s in streams)

    assert here.metadata == there.metadata
    assert b"schema.format" not in here.metadata
    assert list(orjson.loads(here.metadata or b"{}")) == sorted(
        orjson.loads(here.metadata or b"{}")
    )
