"""Ports the application layer needs from the outside world.

Adapters implement these; `caseledger.adapters.bootstrap` is the one place that picks which.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol, TypeVar

from caseledger.domain.shared.envelopes import (
    CommandEnvelope,
    CommandResult,
    QueryEnvelope,
    QueryResult,
)

NO_STREAM: Final = -1
"""Expected version of a stream that must not exist yet (0-based revisions: none written)."""

ANY: Final = -2
"""Expected version that accepts whatever the stream holds (no optimistic check)."""

STREAM_EXISTS: Final = -4
"""Expected version that accepts any revision of a stream that already exists."""


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended. `id` makes appends idempotent: the same ids at the same
    expected version are written once."""

    type: str
    data: bytes
    metadata: bytes = b""
    content_type: str = "application/json"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the store holds it: its stream revision (0-based) and its `$all` position."""

    id: uuid.UUID
    stream: str
    revision: int
    type: str
    data: bytes
    metadata: bytes
    content_type: str
    commit_position: int
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class AppendResult:
    revision: int
    """The stream's last revision after the append."""
    commit_position: int
    """The `$all` position of the append's commit; a read model that reached it shows it."""


@dataclass(frozen=True)
class StreamRead:
    """One read of `EventStore.read_streams`: `stream` forwards from `from_revision` (at most
    `limit` events), or with `backwards` its newest `limit` events, newest first (from the end;
    `from_revision` is then ignored)."""

    stream: str
    from_revision: int = 0
    limit: int | None = None
    backwards: bool = False

    @classmethod
    def last(cls, stream: str) -> StreamRead:
        """The stream's newest event only (e.g. the latest snapshot)."""
        return cls(stream, limit=1, backwards=True)


@dataclass(frozen=True)
class StreamWrite:
    """Events for another stream, written in the same atomic step as an append: committed
    only if `stream` is at `expected` (a revision or NO_STREAM) then."""

    stream: str
    events: Sequence[NewEvent]
    expected: int


class WrongExpectedVersion(Exception):
    """The stream was not at the expected version: someone else wrote first."""

    def __init__(self, stream: str, expected: int, actual: int | None) -> None:
        super().__init__(f"stream {stream!r}: expected version {expected}, actual {actual}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class ChecksUnsupported(Exception):
    """The store cannot check other streams atomically with an append (KurrentDB before 26.1
    has no AppendRecords); the caller reads them instead."""


class StreamNotFound(Exception):
    """The stream does not exist (or was deleted)."""

    def __init__(self, stream: str) -> None:
        super().__init__(f"stream {stream!r} not found")
        self.stream = stream


class EventStoreUnavailable(Exception):
    """The event store cannot be reached, or cannot take writes for now (shutting down, disk
    full). A write the store refused left nothing; one cut off in flight may have landed, so
    the caller retries a command with the same idempotency key, which is safe either way."""


class EventStore(Protocol):
    """Append-only streams with optimistic concurrency, and `$all` in commit order."""

    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        """Append atomically if the stream is at `expected` (a revision, NO_STREAM, ANY or
        STREAM_EXISTS); raise WrongExpectedVersion otherwise. Idempotent by event ids."""
        ...

    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        """`append`, committed only if every stream in `checks` is still at its revision (or
        NO_STREAM) — one atomic step, so a decision read from those streams cannot be
        overtaken between its read and its write — together with the writes `also` (each at
        its own expected version). Nothing is written when any check or expected version
        fails: WrongExpectedVersion then names a stream that moved. The result is `stream`'s.
        Raises ChecksUnsupported where the store cannot check atomically."""
        ...

    def keep_latest(self, stream: str, count: int) -> None:
        """From now on only the newest `count` events of `stream` are readable; the store may
        drop the older ones (KurrentDB's `$maxCount`). For streams whose past is worthless,
        as snapshots'."""
        ...

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events from `from_revision` on; [] if the stream does not exist."""
        ...

    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        """Each request's events (as `read_stream` would answer it), in request order. The
        reads may run concurrently, so their answers need not be one consistent cut: a caller
        that reads several aggregates accepts that each is as of its own read."""
        ...

    def subscribe_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> Subscription[RecordedEvent]:
        """Events after `from_position` (exclusive; None = from the start), then live ones.
        `categories` (e.g. "case", "noticedraft") keep only streams named `<category>-...`."""
        ...

    def head_position(self, categories: Sequence[str] = ()) -> int:
        """The commit position of the newest event in `$all` (0 when empty); with
        `categories`, of the newest event in streams named `<category>-...` — what a reader
        following those categories can reach."""
        ...


Delivered_co = TypeVar("Delivered_co", covariant=True)


class Subscription(Protocol[Delivered_co]):
    """A catch-up subscription; iterate it for what it delivers (the event store's: events;
    the read side's feed: events and checkpoints), stop it from any thread."""

    def __iter__(self) -> Iterator[Delivered_co]: ...

    def stop(self) -> None: ...


class CommandHandler(Protocol):
    """What the entry points (HTTP, MCP, CLI, the notification worker) call with a command:
    `CommandService`, or a decorator around it with the same contract. Every answer is a
    `CommandResult`; a refusal is a result, never an exception."""

    def handle(self, envelope: CommandEnvelope) -> CommandResult: ...


class QueryHandler(Protocol):
    """What the entry points call with a query: the read side's `QueryService`, or a
    decorator around it with the same contract."""

    def handle(self, query: QueryEnvelope) -> QueryResult: ...


class Background(Protocol):
    """Best-effort work off the caller's path (e.g. writing a snapshot after a command).

    `submit` returns at once. Work under a key that has not started yet is replaced by newer
    work under the same key: only the latest matters. Work may be dropped (it is best-effort)
    and must log its own failures."""

    def submit(self, key: str, work: Callable[[], None]) -> None: ...


class RunNow:
    """`Background` on the caller's thread: the work is done before `submit` returns (tests,
    and services wired without a worker)."""

    def submit(self, key: str, work: Callable[[], None]) -> None:
        work()
