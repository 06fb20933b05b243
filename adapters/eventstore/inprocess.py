"""The EventStore port in the process that hosts the embedded store: the same storage, the same
group-commit writer and decision rules (`embedded.writer`, `embedded.transactions`), the same
`$all` loop and commit signal for subscriptions (`embedded.subscriptions`) as the gRPC service,
without a client, a server, protobuf or HTTP/2 between them. Other processes keep reaching the
same store over gRPC; writes from both paths meet in one writer, so positions, revisions and
`$all` order are one.

What a caller sees is what `KurrentEventStore` answers on the embedded store: the same errors
(WrongExpectedVersion with the actual revision, StreamNotFound for a tombstoned stream,
EventStoreUnavailable when the store refuses or closes), `$all` without system events, a
category as the streams named `<category>-...`, checkpoints every 150 filtered events and at
caught-up. The deadline (`timeout`, or an enclosing `within`) bounds a write's wait for its
group commit; reads are local and not bounded.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import orjson
from kurrentdbclient.client import DEFAULT_EXCLUDE_FILTER
from kurrentdbclient.common import (
    DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER,
    DEFAULT_WINDOW_SIZE,
    construct_filter_exclude_regex,
)

from caseledger.adapters.eventstore.deadlines import DEFAULT_TIMEOUT, at_most
from caseledger.adapters.eventstore.embedded import transactions
from caseledger.adapters.eventstore.embedded.database import LARGEST
from caseledger.adapters.eventstore.embedded.filters import EventFilter
from caseledger.adapters.eventstore.embedded.messages import MAX_EVENT_BYTES
from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_ANY,
    EventRecord,
    ProposedEvent,
    StreamDeleted,
    WrongRevision,
)
from caseledger.adapters.eventstore.embedded.store import PAGE, EmbeddedStore, StoreReads
from caseledger.adapters.eventstore.embedded.subscriptions import (
    Looked,
    StoreShuttingDown,
    follow_all_pages,
)
from caseledger.adapters.eventstore.embedded.v2_messages import (
    SYSTEM_PROPERTY_PREFIX as SYSTEM_PROPERTY,
)
from caseledger.adapters.eventstore.embedded.writer import StoreUnavailable, Writer
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    EventStoreUnavailable,
    NewEvent,
    RecordedEvent,
    StreamNotFound,
    StreamRead,
    StreamWrite,
    WrongExpectedVersion,
)
from caseledger.projections.ports import Checkpoint

P = ParamSpec("P")
R = TypeVar("R")

CHECKPOINT_INTERVAL = DEFAULT_WINDOW_SIZE * DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER
"""Events a filtered subscription looks at between checkpoints (kurrentdbclient's default)."""
_EXPECTED = frozenset({NO_STREAM, ANY, STREAM_EXISTS})
_SYSTEM_EVENTS = re.compile(construct_filter_exclude_regex(DEFAULT_EXCLUDE_FILTER))
_NOT_SYSTEM = EventFilter(False, _SYSTEM_EVENTS, (), CHECKPOINT_INTERVAL)
"""What kurrentdbclient reads of `$all` by default: no system events."""
_CLOSED = "the event store is closed"
FEED_PAGE = 2000
"""Events of `$all` a page of the runner's feed (`InProcessFollowing.pages`) reads at most: one
query and one hand-off to the runner for each."""
HEAD_PAGE = 32
"""Events a page of `head_position`'s backwards look reads: the newest matching event is
almost always among the last few (every query asks it, for its freshness)."""


def _available(method: Callable[P, R]) -> Callable[P, R]:
    """The store refusing a write, shutting down or closed as EventStoreUnavailable."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (StoreUnavailable, StoreShuttingDown) as error:
            raise EventStoreUnavailable(str(error)) from error
        except sqlite3.ProgrammingError as error:  # a connection closed with the store
            raise EventStoreUnavailable(_CLOSED) from error

    return call


class InProcessEventStore:
    """`EventStore` (and the read side's `EventFeed`) on an `EmbeddedStore` in this process,
    or only its reads on a `ReadOnlyStore` (another process's store file: a write there is
    EventStoreUnavailable). `close()` lets go of nothing but itself: the store belongs to
    whoever opened it."""

    def __init__(self, store: StoreReads, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._store = store
        self.timeout = timeout

    def _writer(self) -> Writer:
        if not isinstance(self._store, EmbeddedStore):
            raise EventStoreUnavailable("this process only reads the event store's file")
        return self._store.writer

    def close(self) -> None:
        """Nothing to release: the store and its connections are the server's."""

    # ---- writes ---------------------------------------------------------------------------

    @_available
    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        _check_expected(expected)
        proposed = _proposed(events)
        outcome = self._writer().append(stream, expected, proposed, at_most(self.timeout))
        if isinstance(outcome, StreamDeleted):
            raise StreamNotFound(stream)
        if isinstance(outcome, WrongRevision):
            raise WrongExpectedVersion(stream, expected, outcome.current)
        return AppendResult(outcome.revision, outcome.position)

    @_available
    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        """One transaction of the writer (`embedded.transactions`, as AppendRecords is): the
        expected version is a check on `stream` itself, beside `checks`. Metadata is stored as
        AppendRecords stores record properties: a JSON object, its keys sorted."""
        _check_expected(expected)
        expectations = {stream: expected, **checks} if expected != ANY else dict(checks)
        expectations.update({w.stream: w.expected for w in also})
        records = [(w.stream, e) for w in also for e in w.events]
        records += [(stream, e) for e in events]  # last: the position is theirs
        transaction = transactions.Transaction(
            [(_record_stream(s), _record(e)) for s, e in records],
            [transactions.Check(s, _checked(r)) for s, r in expectations.items()],
        )
        if not events:
            raise ValueError("append needs at least one event")
        decide = lambda group: transactions.decide(group, transaction)  # noqa: E731
        outcome = self._writer().transact(decide, at_most(self.timeout))
        if isinstance(outcome, transactions.Refused):
            raise _refusal(stream, expected, outcome)
        revision = next(r for s, r in outcome.revisions if s == stream)
        return AppendResult(revision, outcome.position)

    @_available
    def keep_latest(self, stream: str, count: int) -> None:
        """`$maxCount` in the stream's metadata, as kurrentdbclient's set_stream_metadata."""
        metadata = ProposedEvent(
            str(uuid.uuid4()), "$metadata", "application/json",
            orjson.dumps({"$maxCount": count}), b"",
        )  # fmt: skip
        self._writer().append(f"$${stream}", EXPECT_ANY, [metadata], at_most(self.timeout))

    # ---- reads ----------------------------------------------------------------------------

    @_available
    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        return self._read(StreamRead(stream, from_revision, limit))

    @_available
    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        """One after the other on the caller's thread: each is a local query."""
        return [self._read(request) for request in requests]

    def _read(self, request: StreamRead) -> list[RecordedEvent]:
        """The stream's visible events ([] when it does not exist or is deleted): `$tb`,
        `$maxCount` and `$maxAge` as the gRPC reads apply them (`EmbeddedStore.first_visible`)."""
        state = self._store.readable_state(request.stream)
        if state is None or not state.is_readable:
            return []
        floor = self._store.first_visible(request.stream, state)
        start = state.last_revision if request.backwards else request.from_revision
        limit = sys.maxsize if request.limit is None else request.limit
        pages = self._store.stream_pages(
            request.stream, start, forwards=not request.backwards, floor=floor, limit=limit
        )
        return [_recorded(event) for page in pages for event in page]

    @_available
    def head_position(self, categories: Sequence[str] = ()) -> int:
        """The newest non-system event's position, or the newest in `categories`; 0 if none."""
        wanted = _filter(categories)
        for page in self._store.all_pages(LARGEST, forwards=False, page=HEAD_PAGE):
            for event in page:
                if wanted.matches(event):
                    return event.position
        return 0

    # ---- subscriptions --------------------------------------------------------------------

    def subscribe_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> InProcessSubscription:
        """From `from_position` exclusive; 0 and None both mean the start of `$all`."""
        return InProcessSubscription(self._store, from_position or 0, _filter(categories))

    def follow_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> InProcessFollowing:
        """`subscribe_all` with `Checkpoint`s: every 150 events looked at and at caught-up."""
        return InProcessFollowing(self._store, from_position or 0, _filter(categories))


class _Following:
    """The store's own `$all` loop (`subscriptions.follow_all_pages`) on the iterating thread;
    live events arrive as the writer signals its commits. `stop()` from any thread ends the
    iteration before its next item (or page)."""

    def __init__(self, store: StoreReads, after: int, wanted: EventFilter) -> None:
        self._store = store
        self._after = after
        self._filter = wanted
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()
        self._store.signal.wake()

    def _pages(self, page_size: int) -> Iterator[list[EventRecord | Looked]]:
        alive = lambda: not self._stopped.is_set()  # noqa: E731
        try:
            for page in follow_all_pages(self._store, self._after, self._filter, alive, page_size):
                if self._stopped.is_set():
                    return
                yield page
        except StoreShuttingDown as error:
            raise EventStoreUnavailable(str(error)) from error
        except sqlite3.ProgrammingError as error:
            raise EventStoreUnavailable(_CLOSED) from error

    def _items(self) -> Iterator[EventRecord | Looked]:
        for page in self._pages(PAGE):
            for item in page:
                if self._stopped.is_set():
                    return
                yield item


class InProcessSubscription(_Following):
    """A catch-up subscription to `$all` (the port's `Subscription`)."""

    def __iter__(self) -> Iterator[RecordedEvent]:
        for item in self._items():
            if isinstance(item, EventRecord):
                yield _recorded(item)


class InProcessFollowing(_Following):
    """A catch-up subscription yielding events and `Checkpoint`s (the runner's feed), item by
    item or (`pages`, the read side's `PagedSubscription`) as storage hands them over."""

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        for item in self._items():
            converted = _followed(item)
            if converted is not None:
                yield converted

    def pages(self) -> Iterator[list[RecordedEvent | Checkpoint]]:
        """What each query of `FEED_PAGE` events of `$all` found, converted in one go."""
        for page in self._pages(FEED_PAGE):
            yield [c for c in map(_followed, page) if c is not None]


def _followed(item: EventRecord | Looked) -> RecordedEvent | Checkpoint | None:
    if isinstance(item, EventRecord):
        return _recorded(item)
    return Checkpoint(item.position) if item.position else None  # nothing looked at yet


def _filter(categories: Sequence[str]) -> EventFilter:
    if not categories:
        return _NOT_SYSTEM
    return EventFilter(True, None, tuple(f"{c}-" for c in categories), CHECKPOINT_INTERVAL)


def _check_expected(expected: int) -> None:
    if expected < 0 and expected not in _EXPECTED:
        raise ValueError(f"unknown expected version {expected}")


def _checked(expected: int) -> int:
    _check_expected(expected)
    return expected


def _refusal(stream: str, expected: int, refused: transactions.Refused) -> Exception:
    """As the gRPC adapter reads AppendRecords' violations."""
    violations = refused.violations
    if any(v.stream == stream and v.actual == transactions.TOMBSTONED for v in violations):
        return StreamNotFound(stream)
    if not violations:
        return WrongExpectedVersion(stream, expected, None)
    moved = violations[0]
    return WrongExpectedVersion(moved.stream, moved.expected, moved.actual)


def _proposed(events: Sequence[NewEvent]) -> list[ProposedEvent]:
    if not events:
        raise ValueError("append needs at least one event")
    return [_event(e, e.metadata) for e in events]


def _event(event: NewEvent, metadata: bytes) -> ProposedEvent:
    if len(event.data) + len(metadata) > MAX_EVENT_BYTES:
        raise ValueError(f"event is larger than the maximum of {MAX_EVENT_BYTES} bytes")
    if not event.type:
        raise ValueError("an event needs a type")
    return ProposedEvent(str(event.id), event.type, event.content_type, event.data, metadata)


def _record_stream(stream: str) -> str:
    if not stream or stream.startswith("$"):
        raise ValueError(f"a checked append cannot target {stream!r} (empty or system stream)")
    return stream


def _record(event: NewEvent) -> ProposedEvent:
    """A record as AppendRecords stores it: JSON or octet-stream, properties sorted."""
    json = event.content_type == "application/json"
    content_type = "application/json" if json else "application/octet-stream"
    metadata = _props(event.metadata)
    if len(event.data) + len(metadata) > MAX_EVENT_BYTES:
        raise ValueError(f"event is larger than the maximum of {MAX_EVENT_BYTES} bytes")
    if not event.type:
        raise ValueError("an event needs a type")
    return ProposedEvent(str(event.id), event.type, content_type, event.data, metadata)


_SYSTEM_PROPERTY = b'"$schema.'
_ESCAPE = b"\\u"


def _props(metadata: bytes) -> bytes:
    """The metadata as record properties: a JSON object, its keys sorted, without the system
    properties (`$schema.*`), as the gRPC path keeps them. Properties whose JSON names no
    system property (nor escapes one: `\\u`) are kept whole, without a look at each key."""
    if not metadata:
        return b""
    try:
        properties = orjson.loads(metadata)
    except orjson.JSONDecodeError as error:
        raise ValueError("a checked append's metadata must be a JSON object") from error
    if not isinstance(properties, dict):
        raise ValueError("a checked append's metadata must be a JSON object")
    if _SYSTEM_PROPERTY in metadata or _ESCAPE in metadata:
        properties = {k: v for k, v in properties.items() if not k.startswith(SYSTEM_PROPERTY)}
    return orjson.dumps(properties, option=orjson.OPT_SORT_KEYS) if properties else b""


def _recorded(event: EventRecord) -> RecordedEvent:
    return RecordedEvent(
        id=uuid.UUID(event.event_id),
        stream=event.stream,
        revision=event.revision,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=event.content_type,
        commit_position=event.position,
        recorded_at=datetime.fromtimestamp(event.created / 10_000_000.0, tz=UTC),
    )
