"""Translation between the store's values and KurrentDB's v1 protobuf messages."""

from __future__ import annotations

import re
import time
import uuid

from google.protobuf import any_pb2, empty_pb2, timestamp_pb2
from kurrentdbclient.protos.v1 import shared_pb2, status_pb2, streams_pb2

from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_ANY,
    EXPECT_NO_STREAM,
    EXPECT_STREAM_EXISTS,
    EventRecord,
    ProposedEvent,
)

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_EVENT_BYTES = 16 * 1024 * 1024
"""KurrentDB's default largest record; bigger appends are refused."""


class BadRequest(ValueError):
    """A request the store cannot act on; answered with INVALID_ARGUMENT and this message."""


def stream_name(identifier: shared_pb2.StreamIdentifier) -> str:
    try:
        name = identifier.stream_name.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest("the stream name is not valid UTF-8") from error
    if not name:
        raise BadRequest("a stream name is required")
    return name


def expected_version(which: str | None, revision: int) -> int:
    """Reads the expected-version oneof every write request carries, in KurrentDB numbers."""
    if which in ("revision", "stream_position"):
        return revision
    if which == "no_stream":
        return EXPECT_NO_STREAM
    if which == "any":
        return EXPECT_ANY
    if which == "stream_exists":
        return EXPECT_STREAM_EXISTS
    raise BadRequest("an expected stream revision is required")


def _event_id(message: shared_pb2.UUID) -> str:
    if message.WhichOneof("value") == "structured":
        most = message.structured.most_significant_bits & 0xFFFFFFFFFFFFFFFF
        least = message.structured.least_significant_bits & 0xFFFFFFFFFFFFFFFF
        return str(uuid.UUID(int=(most << 64) | least))
    try:
        return canonical_uuid(message.string)
    except ValueError as error:
        raise BadRequest(f"event id {message.string!r} is not a UUID") from error


def canonical_uuid(text: str) -> str:
    """`text` as a lowercase hyphenated UUID; ValueError when it is not a UUID. What clients
    send is canonical already: a canonical id is returned as it is, not parsed by `uuid.UUID`."""
    if _CANONICAL_UUID.fullmatch(text):
        return text
    return str(uuid.UUID(text))


def proposed_event(
    message: streams_pb2.AppendReq.ProposedMessage | streams_pb2.BatchAppendReq.ProposedMessage,
) -> ProposedEvent:
    event_type = message.metadata.get("type", "")
    if not event_type:
        raise BadRequest("Required metadata property 'type' is missing")
    content_type = message.metadata.get("content-type", "")
    if not content_type:
        raise BadRequest("Required metadata property 'content-type' is missing")
    if len(message.data) + len(message.custom_metadata) > MAX_EVENT_BYTES:
        raise BadRequest(f"event is larger than the maximum of {MAX_EVENT_BYTES} bytes")
    return ProposedEvent(
        event_id=_event_id(message.id),
        type=event_type,
        content_type=content_type,
        data=message.data,
        metadata=message.custom_metadata,
    )


def read_event(event: EventRecord) -> streams_pb2.ReadResp:
    """Built from the top down, each part filled in place, never passed to a constructor: a
    message passed to one is copied into its parent, the event's data at every level (reads and
    subscriptions stream one of these per event)."""
    response = streams_pb2.ReadResp()
    read = response.event
    recorded = read.event
    recorded.id.string = event.event_id
    recorded.stream_identifier.stream_name = event.stream.encode("utf-8")
    recorded.stream_revision = event.revision
    recorded.prepare_position = event.position
    recorded.commit_position = event.position
    metadata = recorded.metadata
    metadata["type"] = event.type
    metadata["content-type"] = event.content_type
    metadata["created"] = str(event.created)
    recorded.custom_metadata = event.metadata
    recorded.data = event.data
    read.commit_position = event.position
    return response


def now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(time.time_ns())
    return stamp


def confirmation() -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        confirmation=streams_pb2.ReadResp.SubscriptionConfirmation(
            subscription_id=str(uuid.uuid4())
        )
    )


def checkpoint(position: int) -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        checkpoint=streams_pb2.ReadResp.Checkpoint(
            commit_position=position, prepare_position=position, timestamp=now()
        )
    )


def caught_up_all(position: int) -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        caught_up=streams_pb2.ReadResp.CaughtUp(
            timestamp=now(),
            position=streams_pb2.ReadResp.Position(
                commit_position=position, prepare_position=position
            ),
        )
    )


def caught_up_stream(revision: int) -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        caught_up=streams_pb2.ReadResp.CaughtUp(timestamp=now(), stream_revision=revision)
    )


def stream_not_found(name: str) -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        stream_not_found=streams_pb2.ReadResp.StreamNotFound(
            stream_identifier=shared_pb2.StreamIdentifier(stream_name=name.encode("utf-8"))
        )
    )


def _set_expected(message: shared_pb2.WrongExpectedVersion, expected: int) -> None:
    if expected >= 0:
        message.expected_stream_position = expected
    elif expected == EXPECT_NO_STREAM:
        message.expected_no_stream.CopyFrom(empty_pb2.Empty())
    elif expected == EXPECT_STREAM_EXISTS:
        message.expected_stream_exists.CopyFrom(empty_pb2.Empty())
    else:
        message.expected_any.CopyFrom(empty_pb2.Empty())


def append_wrong_version(expected: int, current: int) -> streams_pb2.AppendResp:
    wrong = streams_pb2.AppendResp.WrongExpectedVersion()
    if current >= 0:
        wrong.current_revision = current
    else:
        wrong.current_no_stream.CopyFrom(shared_pb2.Empty())
    if expected >= 0:
        wrong.expected_revision = expected
    elif expected == EXPECT_NO_STREAM:
        wrong.expected_no_stream.CopyFrom(shared_pb2.Empty())
    elif expected == EXPECT_STREAM_EXISTS:
        wrong.expected_stream_exists.CopyFrom(shared_pb2.Empty())
    else:
        wrong.expected_any.CopyFrom(shared_pb2.Empty())
    return streams_pb2.AppendResp(wrong_expected_version=wrong)


def append_success(revision: int, position: int) -> streams_pb2.AppendResp:
    success = streams_pb2.AppendResp.Success(
        position=streams_pb2.AppendResp.Position(
            commit_position=position, prepare_position=position
        ),
    )
    if revision >= 0:
        success.current_revision = revision
    else:  # nothing appended to a stream that does not exist
        success.no_stream.CopyFrom(shared_pb2.Empty())
    return streams_pb2.AppendResp(success=success)


def batch_success(
    correlation: shared_pb2.UUID, revision: int, position: int
) -> streams_pb2.BatchAppendResp:
    success = streams_pb2.BatchAppendResp.Success(
        position=shared_pb2.AllStreamPosition(commit_position=position, prepare_position=position)
    )
    if revision >= 0:
        success.current_revision = revision
    else:  # nothing appended to a stream that does not exist
        success.no_stream.CopyFrom(empty_pb2.Empty())
    return streams_pb2.BatchAppendResp(correlation_id=correlation, success=success)


def batch_error(
    correlation: shared_pb2.UUID, code: int, message: str, detail: object
) -> streams_pb2.BatchAppendResp:
    packed = any_pb2.Any()
    packed.Pack(detail)  # type: ignore[arg-type]
    return streams_pb2.BatchAppendResp(
        correlation_id=correlation,
        error=status_pb2.Status(code=code, message=message, details=packed),  # type: ignore[arg-type]
    )


def batch_wrong_version(
    correlation: shared_pb2.UUID, stream: str, expected: int, current: int
) -> streams_pb2.BatchAppendResp:
    wrong = shared_pb2.WrongExpectedVersion()
    if current >= 0:
        wrong.current_stream_revision = current
    else:
        wrong.current_no_stream.CopyFrom(empty_pb2.Empty())
    _set_expected(wrong, expected)
    message = (
        f"WrongExpectedVersion. Stream: {stream}, Expected version: {expected}, "
        f"Actual version: {current}"
    )
    return batch_error(correlation, 9, message, wrong)  # 9 = FAILED_PRECONDITION


def batch_stream_deleted(correlation: shared_pb2.UUID, stream: str) -> streams_pb2.BatchAppendResp:
    deleted = shared_pb2.StreamDeleted(
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode("utf-8"))
    )
    return batch_error(correlation, 9, f"Event stream '{stream}' is deleted.", deleted)


def batch_bad_request(correlation: shared_pb2.UUID, message: str) -> streams_pb2.BatchAppendResp:
    return batch_error(correlation, 3, message, shared_pb2.BadRequest(message=message))
