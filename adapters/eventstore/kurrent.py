"""The EventStore port on kurrentdbclient: the same code talks to the embedded store and to a
KurrentDB cluster; only the connection string differs."""

from __future__ import annotations

import contextvars
import functools
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, ParamSpec, TypeVar, cast

from kurrentdbclient import ContentType, KurrentDBClient, NewRecord, StreamState, StreamStateCheck
from kurrentdbclient import NewEvent as KurrentNewEvent
from kurrentdbclient import RecordedEvent as KurrentRecordedEvent
from kurrentdbclient.common import AbstractCatchupSubscription, AbstractReadResponse
from kurrentdbclient.exceptions import (
    CancelledByClientError,
    ConsistencyChecksFailedError,
    DeadlineExceededError,
    FailedPreconditionError,
    GrpcError,
    NotFoundError,
    ServiceUnavailableError,
    StreamIsDeletedError,
    StreamTombstonedError,
    WrongCurrentVersionError,
)

from caseledger.adapters.eventstore.deadlines import (
    DEFAULT_TIMEOUT,
    DeadlineClient,
    no_answer,
    time_left,
    within,
)
from caseledger.adapters.eventstore.watchdog import Watchdog
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ChecksUnsupported,
    EventStoreUnavailable,
    NewEvent,
    RecordedEvent,
    StreamNotFound,
    StreamRead,
    StreamWrite,
    WrongExpectedVersion,
)
from caseledger.projections.ports import Checkpoint

_CUT_OFF = "the call was cut off: the connection to the event store was lost"
P = ParamSpec("P")
R = TypeVar("R")

_TOMBSTONED = -6
"""The actual state AppendRecords reports for a tombstoned stream."""

_STATES: dict[int, StreamState] = {
    NO_STREAM: StreamState.NO_STREAM,
    ANY: StreamState.ANY,
    STREAM_EXISTS: StreamState.EXISTS,
}


def _reachable(method: Callable[P, R]) -> Callable[P, R]:
    """The client's UNAVAILABLE (no connection, or the store refusing writes for now) as the
    port's `EventStoreUnavailable`, so callers need not know kurrentdbclient. Calls cut off
    under us are the same: when one call finds the store gone the client reconnects, closing the
    channel that the calls beside it use (`read_streams` runs several at once), and those end
    cancelled, or refused by grpc ("Channel closed") — caseledger never cancels these itself."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except ServiceUnavailableError as error:
            raise EventStoreUnavailable(str(error)) from error
        except DeadlineExceededError as error:
            raise EventStoreUnavailable("the event store did not answer in time") from error
        except CancelledByClientError as error:
            raise EventStoreUnavailable(_CUT_OFF) from error
        except ValueError as error:
            if "Channel closed" not in str(error):
                raise
            raise EventStoreUnavailable(_CUT_OFF) from error

    return call


class KurrentEventStore:
    """Appends are atomic per call; one event goes through Streams.Append, several through
    Streams.BatchAppend (the client's own split). `$all` reads skip system events (`$...`).
    `read_streams` runs its reads concurrently on a small thread pool (the client is
    thread-safe; each read is its own gRPC call), so n reads cost about one round trip.

    Deadlines (`timeout` seconds, CASELEDGER_EVENTSTORE_TIMEOUT): each unary call (append,
    metadata, the head's tail read, connecting) ends within it, retries included; a stream
    read is cut off when its next event is that late, never for its length; a subscription
    relies on the client's keep-alives (`deadlines`). A call that runs out of time is
    EventStoreUnavailable -- it may still have landed."""

    def __init__(
        self, client: KurrentDBClient, read_threads: int = 8, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._client = client
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="kurrent-read")
        self._records_supported = True
        self.timeout = timeout
        self._watchdog = Watchdog(timeout)

    @classmethod
    @_reachable
    def connect(cls, url: str, timeout: float = DEFAULT_TIMEOUT) -> KurrentEventStore:
        return cls(DeadlineClient(url, timeout), timeout=timeout)

    def close(self) -> None:
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._watchdog.close()
        self._client.close()

    @_reachable
    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        new = [_to_kurrent(e) for e in events]
        try:
            with within(self.timeout):
                position = self._client.append_to_stream(
                    stream,
                    events=new[0] if len(new) == 1 else new,
                    current_version=_current_version(expected),
                )
                return AppendResult(self._last_revision(stream, events, expected), position)
        except WrongCurrentVersionError as e:
            raise WrongExpectedVersion(stream, expected, _version(e.actual_version)) from e
        except StreamIsDeletedError as e:
            raise StreamNotFound(stream) from e
        except FailedPreconditionError as e:
            # The Append RPC (one event) reports a tombstoned stream as a bare precondition.
            if "is deleted" in str(e):
                raise StreamNotFound(stream) from e
            raise

    @_reachable
    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        """One unary AppendRecords call (KurrentDB >= 26.1 and the embedded store): the
        expected version is a check on `stream` itself, beside `checks`. Metadata must be a
        JSON object of strings (the client sends it as record properties)."""
        if not events:
            raise ValueError("append needs at least one event")
        if not self._records_supported:
            raise ChecksUnsupported("this KurrentDB has no AppendRecords")
        expectations = {stream: expected, **checks} if expected != ANY else dict(checks)
        expectations.update({w.stream: w.expected for w in also})
        records = [_to_record(w.stream, e) for w in also for e in w.events]
        records += [_to_record(stream, e) for e in events]  # last: the position is theirs
        try:
            with within(self.timeout):
                result = self._client.append_records(
                    records,
                    [StreamStateCheck(s, _current_version(r)) for s, r in expectations.items()],
                )
        except ConsistencyChecksFailedError as e:
            failures = [f.stream_state_failure for f in e.failures if f.stream_state_failure]
            if any(f.stream_name == stream and f.actual_state == _TOMBSTONED for f in failures):
                raise StreamNotFound(stream) from e
            if not failures:
                raise WrongExpectedVersion(stream, expected, None) from e
            moved = failures[0]
            raise WrongExpectedVersion(
                moved.stream_name, moved.expected_state, moved.actual_state
            ) from e
        except (StreamIsDeletedError, StreamTombstonedError) as e:
            raise StreamNotFound(stream) from e
        except GrpcError as e:
            if "UNIMPLEMENTED" not in str(e):
                raise
            self._records_supported = False
            raise ChecksUnsupported(f"the server has no AppendRecords: {e}") from e
        revision = next(
            p.stream_position for p in result.stream_positions if p.stream_name == stream
        )
        return AppendResult(revision, result.commit_position)

    @_reachable
    def keep_latest(self, stream: str, count: int) -> None:
        """Stream metadata `$maxCount`: older events vanish from stream reads at once and
        from disk at the next scavenge."""
        with within(self.timeout):
            self._client.set_stream_metadata(stream, metadata={"$maxCount": count})

    @_reachable
    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        return self._events(
            stream, stream_position=from_revision, limit=sys.maxsize if limit is None else limit
        )

    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        """The first read on this thread, the others on the pool, all at once (each through
        `_read`, which makes an unreachable store `EventStoreUnavailable`), each within the
        caller's deadline."""
        if len(requests) <= 1:
            return [self._read(r) for r in requests]
        others = [
            self._readers.submit(contextvars.copy_context().run, self._read, r)
            for r in requests[1:]
        ]
        first = self._read(requests[0])
        return [first, *(self._result(other) for other in others)]

    def _result(self, read: Future[list[RecordedEvent]]) -> list[RecordedEvent]:
        """A pooled read's answer, waited for no longer than the caller's deadline allows (it
        may be queued behind other callers' reads)."""
        try:
            return read.result(timeout=time_left())
        except FutureTimeout:
            read.cancel()
            raise EventStoreUnavailable(no_answer(self.timeout)) from None

    @_reachable
    def _read(self, request: StreamRead) -> list[RecordedEvent]:
        if not request.backwards:
            return self.read_stream(request.stream, request.from_revision, request.limit)
        limit = sys.maxsize if request.limit is None else request.limit
        return self._events(request.stream, backwards=True, limit=limit)

    def _events(self, stream: str, **options: Any) -> list[RecordedEvent]:
        """A stream's events ([] when it does not exist); cut off when the next one is later
        than the deadline."""
        try:
            return self._collected(self._client.read_stream(stream, **options))
        except (NotFoundError, StreamIsDeletedError):
            return []

    def _collected(self, response: AbstractReadResponse) -> list[RecordedEvent]:
        events: list[RecordedEvent] = []
        with self._watchdog.watch(lambda: response.stop(cancel=True)) as lease:
            try:
                for recorded in response:
                    lease.received()
                    events.append(_from_kurrent(recorded))
            except CancelledByClientError as error:
                if lease.overdue:
                    raise EventStoreUnavailable(no_answer(self.timeout)) from error
                raise
        return events

    def subscribe_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> KurrentSubscription:
        """From `from_position` exclusive; 0 and None both mean the start of `$all`."""
        return KurrentSubscription(self._subscribe_to_all(from_position, categories))

    def follow_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> KurrentFollowing:
        """`subscribe_all` with the server's checkpoint and caught-up messages passed through
        as `Checkpoint`s (the projection runner's feed): a long run of events the filter
        drops still moves a reader's checkpoint."""
        return KurrentFollowing(self._subscribe_to_all(from_position, categories, checkpoints=True))

    def _subscribe_to_all(
        self, from_position: int | None, categories: Sequence[str], *, checkpoints: bool = False
    ) -> AbstractCatchupSubscription:
        """A catch-up subscription to `$all` after `from_position` (0 and None: the start),
        filtered to streams named `<category>-...` when `categories` are given; `checkpoints`:
        with the server's checkpoint and caught-up messages."""
        position = from_position or None
        if categories:
            return self._client.subscribe_to_all(
                commit_position=position,
                filter_include=[f"{c}-" for c in categories],
                filter_by_stream_name=True,
                filter_by_prefix=True,
                include_checkpoints=checkpoints,
                include_caught_up=checkpoints,
            )
        return self._client.subscribe_to_all(
            commit_position=position,
            include_checkpoints=checkpoints,
            include_caught_up=checkpoints,
        )

    @_reachable
    def head_position(self, categories: Sequence[str] = ()) -> int:
        """The newest non-system event's commit position (what subscriptions can reach); with
        `categories`, the newest in streams named `<category>-...`."""
        with within(self.timeout):
            if not categories:
                return self._client.get_commit_position()
            alternatives = "|".join(re.escape(c) for c in categories)
            return self._client.get_commit_position(
                filter_include=[f"(?:{alternatives})-.*"], filter_by_stream_name=True
            )

    def _last_revision(self, stream: str, events: Sequence[NewEvent], expected: int) -> int:
        # The client returns only the commit position. After an exact revision the new one
        # follows; otherwise (a soft-deleted stream keeps counting) the last id is looked up.
        if expected >= 0:
            return expected + len(events)
        last_id = events[-1].id
        try:
            for recorded in self._client.read_stream(stream, backwards=True):
                if recorded.id == last_id:
                    return recorded.stream_position
        except NotFoundError:
            pass  # deleted again since the append
        raise StreamNotFound(stream)


class KurrentSubscription:
    """A catch-up subscription to `$all`; `stop()` from any thread ends the iteration."""

    def __init__(self, inner: AbstractCatchupSubscription) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[RecordedEvent]:
        for recorded in self._inner:
            if not (recorded.is_checkpoint or recorded.is_caught_up or recorded.is_fell_behind):
                yield _from_kurrent(recorded)

    def stop(self) -> None:
        self._inner.stop()


class KurrentFollowing:
    """A catch-up subscription to `$all` yielding events and `Checkpoint`s (positions the
    server has looked at everything up to: its checkpoint and caught-up messages)."""

    def __init__(self, inner: AbstractCatchupSubscription) -> None:
        self._inner = inner

    def stop(self) -> None:
        self._inner.stop()

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        for recorded in self._inner:
            if recorded.is_checkpoint or recorded.is_caught_up:
                if recorded.commit_position:  # a caught-up message may carry no position
                    yield Checkpoint(recorded.commit_position)
            elif not recorded.is_fell_behind:
                yield _from_kurrent(recorded)


def _current_version(expected: int) -> int | StreamState:
    if expected >= 0:
        return expected
    try:
        return _STATES[expected]
    except KeyError:
        raise ValueError(f"unknown expected version {expected}") from None


def _version(actual: int | StreamState | None) -> int | None:
    if actual is None or isinstance(actual, int):
        return actual
    return NO_STREAM if actual is StreamState.NO_STREAM else None


def _to_kurrent(event: NewEvent) -> KurrentNewEvent:
    return KurrentNewEvent(
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=cast("ContentType", event.content_type),  # the client narrows to two
        id=event.id,
    )


def _to_record(stream: str, event: NewEvent) -> NewRecord:
    return NewRecord(
        stream_name=stream,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=cast("ContentType", event.content_type),
        id=event.id,
    )


def _from_kurrent(event: KurrentRecordedEvent) -> RecordedEvent:
    return RecordedEvent(
        id=event.id,
        stream=event.stream_name,
        revision=event.stream_position,
        type=event.type,
        data=event.data,
        metadata=event.metadata,
        content_type=event.content_type,
        commit_position=event.commit_position,
        recorded_at=event.recorded_at,
    )
