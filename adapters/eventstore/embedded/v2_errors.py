"""KurrentDB's v2 errors: google.rpc rich statuses whose details name what went wrong, as
`kurrentdbclient` decodes them (`grpc-status-details-bin`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status  # type: ignore[import-untyped]
from kurrentdbclient.protos.v2.streams import errors_pb2

from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_ANY,
    EXPECT_NO_STREAM,
    EXPECT_STREAM_EXISTS,
)
from caseledger.adapters.eventstore.embedded.transactions import DELETED, TOMBSTONED, Violation


class Refusal(Exception):
    """A v2 request the store refuses before deciding anything: the status to answer with."""

    def __init__(self, code: grpc.StatusCode, message: str, detail: Message | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


def abort(context: grpc.ServicerContext, refusal: Refusal) -> NoReturn:
    status = status_pb2.Status(code=refusal.code.value[0], message=refusal.message)
    if refusal.detail is not None:
        status.details.add().Pack(refusal.detail)
    context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


def invalid(field: str, description: str) -> Refusal:
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
    return Refusal(
        grpc.StatusCode.INVALID_ARGUMENT,
        description,
        error_details_pb2.BadRequest(field_violations=[violation]),
    )


def record_too_big(stream: str, record_id: str, size: int, max_size: int) -> Refusal:
    return Refusal(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"The size of record {record_id} ({size} bytes) exceeds the maximum allowed size of "
        f"{max_size} bytes by {size - max_size} bytes",
        errors_pb2.AppendRecordSizeExceededErrorDetails(
            stream=stream, record_id=record_id, size=size, max_size=max_size
        ),
    )


def transaction_too_big(records: int, size: int, max_size: int) -> Refusal:
    return Refusal(
        grpc.StatusCode.ABORTED,
        f"Transaction size ({size} bytes) exceeded the maximum allowed size of {max_size} "
        f"bytes by {size - max_size} bytes, after {records} record(s).",
        errors_pb2.AppendTransactionSizeExceededErrorDetails(size=size, max_size=max_size),
    )


def stream_in_session_twice(stream: str) -> Refusal:
    return Refusal(
        grpc.StatusCode.ABORTED,
        f"Stream '{stream}' already has a different group of messages in this session.",
        errors_pb2.StreamAlreadyInAppendSessionErrorDetails(stream=stream),
    )


def consistency_violation(violations: Sequence[Violation]) -> Refusal:
    lines = "".join(f"\n - {_describe(v)}" for v in violations)
    details = errors_pb2.AppendConsistencyViolationErrorDetails(
        violations=[
            errors_pb2.ConsistencyViolation(
                check_index=v.check_index,
                stream_state=errors_pb2.ConsistencyViolation.StreamStateViolation(
                    stream=v.stream, expected_state=v.expected, actual_state=v.actual
                ),
            )
            for v in violations
        ]
    )
    return Refusal(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"Append failed due to consistency violations.\n{lines}",
        details,
    )


def session_conflict(violation: Violation) -> Refusal:
    """AppendSession reports its first failure alone: a tombstoned stream, or a revision
    conflict with the stream's current revision (-1 when it reads as missing)."""
    stream = violation.stream
    if violation.actual == TOMBSTONED:
        return Refusal(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"Stream '{stream}' has been tombstoned.",
            errors_pb2.StreamTombstonedErrorDetails(stream=stream),
        )
    actual = EXPECT_NO_STREAM if violation.actual == DELETED else violation.actual
    return Refusal(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"Append failed due to a revision conflict on stream '{stream}'. "
        f"Expected revision: {violation.expected}. Actual revision: {actual}.",
        errors_pb2.StreamRevisionConflictErrorDetails(
            stream=stream, expected_revision=violation.expected, actual_revision=actual
        ),
    )


_ACTUAL = {EXPECT_NO_STREAM: "does not exist", DELETED: "is deleted", TOMBSTONED: "is tombstoned"}
_EXPECTED = {
    EXPECT_NO_STREAM: "no stream", EXPECT_ANY: "any", EXPECT_STREAM_EXISTS: "exists",
    DELETED: "deleted", TOMBSTONED: "tombstoned",
}  # fmt: skip


def _describe(violation: Violation) -> str:
    actual = _ACTUAL.get(violation.actual, f"is at revision {violation.actual}")
    expected = _EXPECTED.get(violation.expected, f"revision {violation.expected}")
    return f"Stream '{violation.stream}' {actual}, expected {expected}."
