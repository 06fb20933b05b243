"""The stores a service test can run on: the in-memory fake, or the embedded store reached
through the real client (`KurrentEventStore` on kurrentdbclient). Both count their appends."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.domain.application.ports import (
    AppendResult,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamRead,
    StreamWrite,
    Subscription,
)

StoreFactory = Callable[[], EventStore]
"""Makes a fresh, empty store of one kind (a test may want several)."""


class CountingKurrentStore:
    """`KurrentEventStore` that counts calls to `append` (as the fake's `appends` does), so a
    test can say "this wrote nothing" the same way on both stores."""

    def __init__(self, inner: KurrentEventStore | InProcessEventStore) -> None:
        self.inner = inner
        self.appends = 0

    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        self.appends += 1
        return self.inner.append(stream, events, expected)

    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        self.appends += 1
        return self.inner.append_checked(stream, events, expected, checks, also)

    def keep_latest(self, stream: str, count: int) -> None:
        self.inner.keep_latest(stream, count)

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        return self.inner.read_stream(stream, from_revision, limit)

    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        return self.inner.read_streams(requests)

    def subscribe_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> Subscription:
        return self.inner.subscribe_all(from_position, categories)

    def head_position(self, categories: Sequence[str] = ()) -> int:
        return self.inner.head_position(categories)


@contextmanager
def embedded_store(data_dir: Path | None = None) -> Iterator[EmbeddedServer]:
    """An embedded store in memory (or, for durability tests, on `data_dir`)."""
    server = EmbeddedServer.start(data_dir, mem_db=data_dir is None)
    try:
        yield server
    finally:
        server.stop(grace=1.0)


@contextmanager
def kurrent_store(server: EmbeddedServer) -> Iterator[CountingKurrentStore]:
    """The real adapter on its own client connection to `server`."""
    inner = KurrentEventStore.connect(server.url)
    try:
        yield CountingKurrentStore(inner)
    finally:
        inner.close()


@contextmanager
def inprocess_store(server: EmbeddedServer) -> Iterator[CountingKurrentStore]:
    """The in-process adapter on `server`'s own storage and writer (as `serve` uses it)."""
    yield CountingKurrentStore(InProcessEventStore(server.store))
