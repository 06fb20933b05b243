"""Deadlines on event-store calls: per call, never per stream.

- `within(seconds)` bounds everything the event store is asked inside the block: each RPC the
  client makes for it -- its own retries, reconnects and discovery (gossip) included -- gets
  the time left as its gRPC deadline, and none starts once the time is spent
  (`EventStoreUnavailable`). Blocks nest and the sooner end wins, so a request handler can
  bound a whole command while the adapter bounds each of its unary calls. The budget lives in
  a context variable: code run on another thread takes it along with `contextvars`.
- `DeadlineClient` is kurrentdbclient's client with that bound on every channel it opens, and
  with gRPC keep-alives: a ping every half deadline that must be answered within the other
  half, so a subscription -- silent for as long as nothing is written -- notices a frozen or
  vanished peer within about the deadline, while one that keeps receiving is never cut off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from types import TracebackType
from typing import Any, NamedTuple

import grpc
from kurrentdbclient import KurrentDBClient

from caseledger.domain.application.ports import EventStoreUnavailable

DEFAULT_TIMEOUT = 5.0
"""Seconds (CASELEDGER_EVENTSTORE_TIMEOUT's default)."""

_ends_at: ContextVar[float | None] = ContextVar("caseledger_eventstore_deadline", default=None)


def no_answer(seconds: float) -> str:
    return f"the event store did not answer within {seconds:g}s"


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Everything asked of the event store in this block ends within `seconds` (or sooner,
    when an enclosing block ends sooner)."""
    token = _ends_at.set(monotonic() + at_most(seconds))
    try:
        yield
    finally:
        _ends_at.reset(token)


def at_most(seconds: float) -> float:
    """`seconds`, or what is left of the innermost `within` block when that ends sooner: the
    bound `within(seconds)` would set, for a call that takes a timeout itself."""
    left = time_left()
    return seconds if left is None else min(seconds, left)


def time_left() -> float | None:
    """Seconds left of the innermost `within` block (None outside any)."""
    ends_at = _ends_at.get()
    return None if ends_at is None else ends_at - monotonic()


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _CallDetails(_Details, grpc.ClientCallDetails):
    """grpc wants its own ABC; the tuple carries the fields."""


def _bounded(details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
    left = time_left()
    if left is None:
        return details
    if left <= 0:
        raise EventStoreUnavailable("the event store did not answer in time")
    if details.timeout is not None and details.timeout <= left:
        return details
    return _CallDetails(
        details.method,
        left,
        details.metadata,
        details.credentials,
        details.wait_for_ready,
        details.compression,
    )


class DeadlineInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Gives every RPC started inside `within` the time left as its deadline."""

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return continuation(_bounded(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return continuation(_bounded(client_call_details), request)

    def intercept_stream_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any
    ) -> Any:
        return continuation(_bounded(client_call_details), request_iterator)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any
    ) -> Any:
        return continuation(_bounded(client_call_details), request_iterator)


def keepalive_options(timeout: float) -> tuple[tuple[str, int], ...]:
    """Pings that notice a dead peer within about `timeout` seconds, also on a subscription
    that receives nothing for hours."""
    half = max(50, int(timeout * 500))
    return (
        ("grpc.keepalive_time_ms", half),
        ("grpc.keepalive_timeout_ms", half),
        ("grpc.http2.ping_timeout_ms", half),  # what grpc waits for the ping's answer
    )


def channel_options(timeout: float) -> tuple[tuple[str, int], ...]:
    """Keep pinging while no data flows, and retry a lost connection at least every `timeout`
    (every second for shorter ones), so calls succeed again soon after the store resumes."""
    return (
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", max(1000, int(timeout * 1000))),
    )


class LockWithinDeadline:
    """A lock whose `with` waits no longer than the time left of the caller's `within` block
    (then EventStoreUnavailable), so a call does not outwait its deadline behind another's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        left = time_left()
        if not self._lock.acquire(timeout=-1 if left is None else max(0.0, left)):
            raise EventStoreUnavailable("the event store did not answer in time")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._lock.release()


class DeadlineClient(KurrentDBClient):
    """kurrentdbclient's client, each channel bounded by `within` and kept alive. Keep-alive
    settings in the connection string (`KeepAliveInterval`, `KeepAliveTimeout`) win. Calls
    that find the connection lost reconnect one at a time (the client's lock): each waits for
    its turn only as long as its own deadline allows."""

    def __init__(self, uri: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._deadline_interceptor = DeadlineInterceptor()
        self._channel_options = channel_options(timeout)
        self._keepalive_options = keepalive_options(timeout)
        with within(timeout):  # a discover:// connection string asks gossip first
            super().__init__(uri)
        self._reconnection_lock = LockWithinDeadline()  # type: ignore[assignment]

    def _construct_grpc_channel(
        self, grpc_target: str, grpc_options: tuple[tuple[str, Any], ...] = ()
    ) -> grpc.Channel:
        own = self.connection_spec.options
        configured = own.keep_alive_interval is not None or own.keep_alive_timeout is not None
        keepalive = () if configured else self._keepalive_options
        options = (*grpc_options, *self._channel_options, *keepalive)
        channel = super()._construct_grpc_channel(grpc_target, options)
        return grpc.intercept_channel(channel, self._deadline_interceptor)
