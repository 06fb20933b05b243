"""KurrentDB's v1 Streams service (Append, BatchAppend, Read, Delete, Tombstone) on the store."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn
from urllib.parse import quote

import grpc
from kurrentdbclient.protos.v1 import streams_pb2, streams_pb2_grpc

from caseledger.adapters.eventstore.embedded import messages as msg
from caseledger.adapters.eventstore.embedded.filters import EventFilter, InvalidFilter, parse_filter
from caseledger.adapters.eventstore.embedded.reads import InvalidPosition, read_all, read_stream
from caseledger.adapters.eventstore.embedded.records import (
    Appended,
    NoSuchStream,
    ProposedEvent,
    StreamDeleted,
    WrongRevision,
)
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore
from caseledger.adapters.eventstore.embedded.subscriptions import (
    StoreShuttingDown,
    subscribe_all,
    subscribe_stream,
)
from caseledger.adapters.eventstore.embedded.writer import StoreUnavailable

Context = grpc.ServicerContext


def _abort_deleted(context: Context, stream: str) -> NoReturn:
    context.set_trailing_metadata(
        (("exception", "stream-deleted"), ("stream-name", _header_value(stream)))
    )
    context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"Event stream '{stream}' is deleted.")


def _abort_wrong_version(context: Context, action: str, wrong: WrongRevision) -> NoReturn:
    """KurrentDB's wrong version: the message the Python clients parse, and the trailers the
    Node.js and .NET clients read (`RpcExceptions.WrongExpectedVersion`)."""
    context.set_trailing_metadata(
        (
            ("exception", "wrong-expected-version"),
            ("stream-name", _header_value(wrong.stream)),
            ("expected-version", str(wrong.expected)),
            ("actual-version", str(wrong.current)),
        )
    )
    context.abort(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"{action} failed due to WrongExpectedVersion. Stream: {wrong.stream}, "
        f"Expected version: {wrong.expected}, Actual version: {wrong.current}",
    )


def _header_value(text: str) -> str:
    """`text` when an HTTP/2 header value can carry it (printable ASCII), else percent-encoded:
    grpc refuses anything else, and the call would end INTERNAL instead of with its status."""
    if text.isascii() and text.isprintable():
        return text
    return quote(text, safe="")


def _abort_unavailable(context: Context, error: StoreUnavailable) -> NoReturn:
    context.abort(grpc.StatusCode.UNAVAILABLE, str(error))


def _abort_bad_request(context: Context, error: Exception) -> NoReturn:
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))


MAX_SUBSCRIPTIONS = 256
"""Live subscriptions at once. Each holds a server thread, so past this a new one is refused
as KurrentDB refuses it ("Maximum subscriptions reached"), rather than starving appends."""


class StreamsService(streams_pb2_grpc.StreamsServicer):
    def __init__(self, store: EmbeddedStore, max_subscriptions: int = MAX_SUBSCRIPTIONS) -> None:
        self._store = store
        self._subscription_slots = threading.BoundedSemaphore(max_subscriptions)

    # ---- Append: one client stream = one atomic append --------------------------------------

    def Append(
        self, request_iterator: Iterable[streams_pb2.AppendReq], context: Context
    ) -> streams_pb2.AppendResp:
        try:
            stream, expected, events = self._read_append(request_iterator)
            outcome = self._store.append(stream, expected, events)
        except msg.BadRequest as error:
            _abort_bad_request(context, error)
        except StoreUnavailable as error:
            _abort_unavailable(context, error)
        if isinstance(outcome, StreamDeleted):
            _abort_deleted(context, stream)
        if isinstance(outcome, WrongRevision):
            return msg.append_wrong_version(outcome.expected, outcome.current)
        return msg.append_success(outcome.revision, outcome.position)

    @staticmethod
    def _read_append(
        requests: Iterable[streams_pb2.AppendReq],
    ) -> tuple[str, int, list[ProposedEvent]]:
        iterator = iter(requests)
        first = next(iterator, None)
        if first is None or first.WhichOneof("content") != "options":
            raise msg.BadRequest("an append must start with its options")
        options = first.options
        stream = msg.stream_name(options.stream_identifier)
        expected = msg.expected_version(
            options.WhichOneof("expected_stream_revision"), options.revision
        )
        events = []
        for request in iterator:
            if request.WhichOneof("content") != "proposed_message":
                raise msg.BadRequest("options may only come first in an append")
            events.append(msg.proposed_event(request.proposed_message))
        return stream, expected, events

    # ---- BatchAppend: each request (until is_final) is one atomic append ------------------

    def BatchAppend(
        self, request_iterator: Iterable[streams_pb2.BatchAppendReq], context: Context
    ) -> Iterator[streams_pb2.BatchAppendResp]:
        pending: dict[bytes, tuple[streams_pb2.BatchAppendReq.Options, list[Any]]] = {}
        for request in request_iterator:
            key = request.correlation_id.SerializeToString()
            options, proposed = pending.setdefault(key, (request.options, []))
            proposed.extend(request.proposed_messages)
            if not request.is_final:
                continue
            del pending[key]
            response = self._batch_append_one(request.correlation_id, options, proposed, context)
            if options.HasField("stream_identifier"):  # KurrentDB names the stream in each
                response.stream_identifier.CopyFrom(options.stream_identifier)
            yield response

    def _batch_append_one(
        self,
        correlation: Any,
        options: streams_pb2.BatchAppendReq.Options,
        proposed: list[Any],
        context: Context,
    ) -> streams_pb2.BatchAppendResp:
        try:
            stream = msg.stream_name(options.stream_identifier)
            expected = msg.expected_version(
                options.WhichOneof("expected_stream_position"), options.stream_position
            )
            events = [msg.proposed_event(message) for message in proposed]
            outcome = self._store.append(stream, expected, events)
        except msg.BadRequest as error:
            return msg.batch_bad_request(correlation, str(error))
        except StoreUnavailable as error:
            _abort_unavailable(context, error)
        if isinstance(outcome, StreamDeleted):
            return msg.batch_stream_deleted(correlation, stream)
        if isinstance(outcome, WrongRevision):
            return msg.batch_wrong_version(correlation, stream, outcome.expected, outcome.current)
        return msg.batch_success(correlation, outcome.revision, outcome.position)

    # ---- Delete and Tombstone ------------------------------------------------------------

    def Delete(self, request: streams_pb2.DeleteReq, context: Context) -> streams_pb2.DeleteResp:
        stream, expected = self._delete_target(request.options, context)
        try:
            outcome = self._store.delete(stream, expected)
        except StoreUnavailable as error:
            _abort_unavailable(context, error)
        position = self._deleted_position(outcome, stream, expected, "Delete", context)
        return streams_pb2.DeleteResp(
            position=streams_pb2.DeleteResp.Position(
                commit_position=position, prepare_position=position
            )
        )

    def Tombstone(
        self, request: streams_pb2.TombstoneReq, context: Context
    ) -> streams_pb2.TombstoneResp:
        stream, expected = self._delete_target(request.options, context)
        try:
            outcome = self._store.tombstone(stream, expected)
        except StoreUnavailable as error:
            _abort_unavailable(context, error)
        position = self._deleted_position(outcome, stream, expected, "Tombstone", context)
        return streams_pb2.TombstoneResp(
            position=streams_pb2.TombstoneResp.Position(
                commit_position=position, prepare_position=position
            )
        )

    @staticmethod
    def _delete_target(options: Any, context: Context) -> tuple[str, int]:
        try:
            stream = msg.stream_name(options.stream_identifier)
            which = options.WhichOneof("expected_stream_revision")
            return stream, msg.expected_version(which, options.revision)
        except msg.BadRequest as error:
            _abort_bad_request(context, error)

    @staticmethod
    def _deleted_position(
        outcome: object, stream: str, expected: int, action: str, context: Context
    ) -> int:
        if isinstance(outcome, Appended):
            return outcome.position
        if isinstance(outcome, StreamDeleted):
            _abort_deleted(context, stream)
        if isinstance(outcome, NoSuchStream):
            # KurrentDB reports a missing stream as a wrong version with actual -1.
            outcome = WrongRevision(stream, expected, -1)
        assert isinstance(outcome, WrongRevision)
        _abort_wrong_version(context, action, outcome)

    # ---- Read: reads and catch-up subscriptions --------------------------------------------

    def Read(
        self, request: streams_pb2.ReadReq, context: Context
    ) -> Iterator[streams_pb2.ReadResp]:
        options = request.options
        try:
            event_filter = parse_filter(options)
            which = options.WhichOneof("stream_option")
            if which is None:
                raise msg.BadRequest("a read needs a stream or $all")
            stream = None
            if which == "stream":
                stream = msg.stream_name(options.stream.stream_identifier)
        except (InvalidFilter, msg.BadRequest) as error:
            _abort_bad_request(context, error)
        state = None if stream is None else self._store.readable_state(stream)
        if stream is not None and state is None:
            _abort_deleted(context, stream)
        forwards = options.read_direction == streams_pb2.ReadReq.Options.Forwards
        try:
            if options.WhichOneof("count_option") == "subscription":
                if not self._subscription_slots.acquire(blocking=False):
                    context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION, "Maximum subscriptions reached"
                    )
                context.add_callback(self._store.signal.wake)  # a cancel ends the wait at once
                try:
                    yield from self._subscribe(stream, options, event_filter, context)
                finally:
                    self._subscription_slots.release()
            elif stream is None:
                yield from read_all(self._store, options.all, forwards, options.count, event_filter)
            else:
                assert state is not None
                stream_options = options.stream
                yield from read_stream(
                    self._store, stream, state, stream_options, forwards, options.count
                )
        except InvalidPosition as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        except StoreShuttingDown as error:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(error))

    def _subscribe(
        self,
        stream: str | None,
        options: streams_pb2.ReadReq.Options,
        event_filter: EventFilter | None,
        context: Context,
    ) -> Iterator[streams_pb2.ReadResp]:
        if stream is None:
            yield from subscribe_all(self._store, options.all, event_filter, context.is_active)
        else:
            yield from subscribe_stream(self._store, stream, options.stream, context.is_active)
