"""KurrentDB's v2 append requests as store transactions, and the answers back.

A record is stored as a v1 event, so v1 reads return what an equivalent v1 append would:
schema.name is the event type; SCHEMA_FORMAT_JSON means `application/json`, any other format
`application/octet-stream`; the properties are the metadata, a JSON object with its keys sorted
(a protobuf map keeps no order; KurrentDB stores them as a Struct), none giving empty metadata.
System properties `$schema.*` (KurrentDB's own record of the format and schema id) are not kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Final

import orjson
from google.protobuf import struct_pb2
from kurrentdbclient.protos.v2.streams import streams_pb2

from caseledger.adapters.eventstore.embedded import v2_errors as errors
from caseledger.adapters.eventstore.embedded.messages import MAX_EVENT_BYTES, canonical_uuid
from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_ANY,
    EXPECT_NO_STREAM,
    EXPECT_STREAM_EXISTS,
    ProposedEvent,
)
from caseledger.adapters.eventstore.embedded.transactions import (
    DELETED,
    TOMBSTONED,
    Check,
    Committed,
    Transaction,
)

MAX_TRANSACTION_BYTES = 32 * 1024 * 1024
"""The largest transaction, counted as records are (data, metadata, type): what one unary
request may carry, so an AppendSession takes no more than an AppendRecords call."""
EXPECTED_STATES: Final = frozenset(
    {EXPECT_NO_STREAM, EXPECT_ANY, EXPECT_STREAM_EXISTS, DELETED, TOMBSTONED}
)
SYSTEM_PROPERTY_PREFIX = "$schema."


class _Sizes:
    """Refuses a record over the record limit, then a transaction over the total limit."""

    def __init__(self) -> None:
        self.total = 0
        self.records = 0

    def add(self, stream: str, event: ProposedEvent) -> None:
        size = len(event.data) + len(event.metadata) + len(event.type.encode())
        if size > MAX_EVENT_BYTES:
            raise errors.record_too_big(stream, event.event_id, size, MAX_EVENT_BYTES)
        self.total += size
        self.records += 1
        if self.total > MAX_TRANSACTION_BYTES:
            raise errors.transaction_too_big(self.records, self.total, MAX_TRANSACTION_BYTES)


def transaction(request: streams_pb2.AppendRecordsRequest) -> Transaction:
    """AppendRecords: raises `Refusal` for a request the store cannot act on."""
    if not request.records:
        raise errors.invalid("records", "Append records request must contain at least one record.")
    checks = [_check(i, check) for i, check in enumerate(request.checks)]
    streams = [check.stream for check in checks]
    if len(set(streams)) != len(streams):
        raise errors.invalid("checks", "Each stream can only appear once in consistency checks.")
    sizes, records = _Sizes(), []
    for i, record in enumerate(request.records):
        stream = _target(record.stream, f"records[{i}].stream")
        event = _event(record, f"records[{i}]")
        sizes.add(stream, event)
        records.append((stream, event))
    return Transaction(records, checks)


def session_transaction(requests: Iterable[streams_pb2.AppendRequest]) -> Transaction:
    """AppendSession: each request is one stream's records and, optionally, its expected
    revision (ANY when missing); a stream may come only once."""
    sizes, records, checks = _Sizes(), [], list[Check]()
    for i, request in enumerate(requests):
        stream = _target(request.stream, f"requests[{i}].stream")
        if any(check.stream == stream for check in checks):
            raise errors.stream_in_session_twice(stream)
        expected = (
            request.expected_revision if request.HasField("expected_revision") else EXPECT_ANY
        )
        checks.append(Check(stream, _expected(expected, f"requests[{i}].expected_revision")))
        if not request.records:
            raise errors.invalid(f"requests[{i}].records", "An append request needs records.")
        for j, record in enumerate(request.records):
            event = _event(record, f"requests[{i}].records[{j}]")
            sizes.add(stream, event)
            records.append((stream, event))
    if not checks:
        raise errors.invalid("requests", "Append session ended before any append request.")
    return Transaction(records, checks)


def records_response(committed: Committed) -> streams_pb2.AppendRecordsResponse:
    return streams_pb2.AppendRecordsResponse(
        position=committed.position,
        revisions=[
            streams_pb2.StreamRevision(stream=stream, revision=revision)
            for stream, revision in committed.revisions
        ],
    )


def session_response(committed: Committed) -> streams_pb2.AppendSessionResponse:
    return streams_pb2.AppendSessionResponse(
        position=committed.position,
        output=[
            streams_pb2.AppendResponse(stream=stream, stream_revision=revision)
            for stream, revision in committed.revisions
        ],
    )


# ---- one field at a time ---------------------------------------------------------------------


def _check(index: int, check: streams_pb2.ConsistencyCheck) -> Check:
    if check.WhichOneof("type") != "stream_state":
        raise errors.invalid(f"checks[{index}]", "Each consistency check must specify a kind.")
    state = check.stream_state
    if not state.stream:
        raise errors.invalid(f"checks[{index}].stream", "A consistency check needs a stream.")
    return Check(state.stream, _expected(state.expected_state, f"checks[{index}].expected_state"))


def _expected(value: int, field: str) -> int:
    if value >= 0 or value in EXPECTED_STATES:
        return value
    raise errors.invalid(
        field, f"{value} is not a revision or a stream state (-1, -2, -4, -5, -6)."
    )


def _target(stream: str, field: str) -> str:
    if not stream:
        raise errors.invalid(field, "Each record must specify a target stream.")
    if stream.startswith("$"):
        raise errors.invalid(field, "Records cannot target system streams (starting with '$').")
    return stream


def _event(record: streams_pb2.AppendRecord, field: str) -> ProposedEvent:
    if not record.schema.name:
        raise errors.invalid(f"{field}.schema.name", "A record needs a schema name (its type).")
    schema_format = record.schema.format
    if schema_format == streams_pb2.SCHEMA_FORMAT_UNSPECIFIED:
        raise errors.invalid(f"{field}.schema.format", "Schema format must not be unspecified.")
    json = schema_format == streams_pb2.SCHEMA_FORMAT_JSON
    return ProposedEvent(
        event_id=_record_id(record.record_id, f"{field}.record_id"),
        type=record.schema.name,
        content_type="application/json" if json else "application/octet-stream",
        data=record.data,
        metadata=_metadata(record.properties),
    )


def _record_id(value: str, field: str) -> str:
    if not value:
        return str(uuid.uuid4())
    try:
        return canonical_uuid(value)
    except ValueError:
        raise errors.invalid(field, f"Record id {value!r} is not a UUID.") from None


def _metadata(properties: Mapping[str, struct_pb2.Value]) -> bytes:
    kept = {k: _plain(v) for k, v in properties.items() if not k.startswith(SYSTEM_PROPERTY_PREFIX)}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS) if kept else b""


def _plain(value: struct_pb2.Value) -> object:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {k: _plain(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_plain(v) for v in value.list_value.values]
    return None
