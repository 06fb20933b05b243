"""The gRPC adapter (`KurrentEventStore`) passes the EventStore contract on the embedded store
and on a real KurrentDB (where Docker answers); and what it adds beyond the port: KurrentDB's
deletions, and an unreachable store as EventStoreUnavailable."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kurrentdbclient import KurrentDBClient, StreamState

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    EventStore,
    EventStoreUnavailable,
    NewEvent,
    StreamNotFound,
    StreamRead,
)
from tests.contract.event_store import EventStoreContract


def _over_grpc(url: str) -> Iterator[EventStore]:
    store = KurrentEventStore.connect(url)
    yield store
    store.close()


class TestKurrentEventStoreOnTheEmbeddedStore(EventStoreContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        server: EmbeddedServer = request.getfixturevalue("embedded_server")
        yield from _over_grpc(server.url)


@pytest.mark.docker
class TestKurrentEventStoreOnKurrentDB(EventStoreContract):
    """KurrentDB 26.1 in Docker (testcontainers); skipped with the reason where none answers."""

    def connect(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        yield from _over_grpc(request.getfixturevalue("kurrentdb_url"))


@pytest.fixture
def store(embedded_server: EmbeddedServer) -> KurrentEventStore:
    return KurrentEventStore.connect(embedded_server.url)


@pytest.mark.parametrize("count", [1, 2], ids=["Append", "BatchAppend"])
def test_appending_to_a_tombstoned_stream_is_stream_not_found(
    store: KurrentEventStore, kurrent_client: KurrentDBClient, count: int
) -> None:
    store.append("case-1", [NewEvent("case.opened", b"{}")], NO_STREAM)
    kurrent_client.tombstone_stream("case-1", current_version=StreamState.ANY)

    with pytest.raises(StreamNotFound):
        store.append("case-1", [NewEvent("case.noted", b"{}") for _ in range(count)], ANY)


def test_a_checked_append_to_a_tombstoned_stream_is_stream_not_found(
    store: KurrentEventStore, kurrent_client: KurrentDBClient
) -> None:
    store.append("case-1", [NewEvent("case.opened", b"{}")], NO_STREAM)
    kurrent_client.tombstone_stream("case-1", current_version=StreamState.ANY)

    with pytest.raises(StreamNotFound):
        store.append_checked("case-1", [NewEvent("case.noted", b"{}")], ANY, {"policy-t1": -1})


def test_a_soft_deleted_stream_reads_as_empty(
    store: KurrentEventStore, kurrent_client: KurrentDBClient
) -> None:
    store.append("case-1", [NewEvent("case.opened", b"{}")], NO_STREAM)
    kurrent_client.delete_stream("case-1", current_version=0)

    assert store.read_stream("case-1") == []
    assert store.append("case-1", [NewEvent("case.reopened", b"{}")], NO_STREAM).revision == 1


UNREACHED: dict[str, Callable[[KurrentEventStore], object]] = {
    "append": lambda store: store.append("case-1", [NewEvent("case.noted", b"{}")], ANY),
    "append_checked": lambda store: store.append_checked(
        "case-1", [NewEvent("case.noted", b"{}")], ANY, {"policy-t1": -1}
    ),
    "read_stream": lambda store: store.read_stream("case-1"),
    "read_streams": lambda store: store.read_streams([StreamRead("case-1")] * 2),
    "head_position": lambda store: store.head_position(),
}


@pytest.mark.parametrize("call", UNREACHED.values(), ids=UNREACHED.keys())
def test_a_store_that_cannot_be_reached_is_event_store_unavailable(
    call: Callable[[KurrentEventStore], object],
) -> None:
    server = EmbeddedServer.start(None, mem_db=True)
    store = KurrentEventStore.connect(server.url)
    try:
        store.append("case-1", [NewEvent("case.opened", b"{}")], NO_STREAM)
        server.stop(grace=1.0)
        with pytest.raises(EventStoreUnavailable):
            call(store)
    finally:
        store.close()
        server.stop(grace=1.0)
