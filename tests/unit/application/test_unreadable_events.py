"""Reading a stored event back: anything this code cannot read is `UnreadableEvent`, naming
stream and revision (and the finer cause), never mis-read and never another exception."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.ports import RecordedEvent
from caseledger.domain.application.registry import event_registry
from caseledger.domain.shared.errors import UnreadableEvent
from caseledger.domain.shared.reasons import ReasonCode

STARTED = orjson.dumps({"case_id": "c1", "started_by": "a"})


def recorded(event_type: str, data: bytes, metadata: Any) -> RecordedEvent:
    raw = metadata if isinstance(metadata, bytes) else orjson.dumps(metadata)
    return RecordedEvent(
        uuid.uuid4(), "case-c1", 3, event_type, data, raw, "application/json", commit_position=9
    )


@pytest.mark.parametrize(
    ("event", "cause"),
    [
        (recorded("case.teleported", STARTED, {}), ReasonCode.UNKNOWN_EVENT_TYPE),
        (
            recorded("case.review_started", STARTED, {"schemaVersion": "9"}),
            ReasonCode.UNKNOWN_EVENT_VERSION,
        ),
        (recorded("case.review_started", b"\xff{", {}), ReasonCode.UNREADABLE_EVENT),
        (recorded("case.review_started", b'{"case_id": 1}', {}), ReasonCode.UNREADABLE_EVENT),
        (recorded("case.review_started", STARTED, b"{not json"), ReasonCode.UNREADABLE_EVENT),
        (recorded("case.review_started", STARTED, b"[1, 2]"), ReasonCode.UNREADABLE_EVENT),
        (
            recorded("case.review_started", STARTED, {"schemaVersion": "one"}),
            ReasonCode.UNREADABLE_EVENT,
        ),
        (
            recorded("case.review_started", STARTED, {"schemaVersion": 1.5}),
            ReasonCode.UNREADABLE_EVENT,
        ),
        (
            recorded("case.review_started", STARTED, {"schemaVersion": True}),
            ReasonCode.UNREADABLE_EVENT,
        ),
        (
            recorded("case.review_started", STARTED, {"schemaVersion": "9" * 5000}),
            ReasonCode.UNREADABLE_EVENT,
        ),
    ],
    ids=[
        "unknown type",
        "unknown version",
        "data not JSON",
        "data not the schema",
        "metadata not JSON",
        "metadata not an object",
        "version a word",
        "version a fraction",
        "version a boolean",
        "version 5000 digits",
    ],
)
def test_every_kind_of_unreadable_event_names_stream_and_revision(
    event: RecordedEvent, cause: ReasonCode
) -> None:
    with pytest.raises(UnreadableEvent) as unreadable:
        read_recorded(event, event_registry())

    error = unreadable.value
    assert (error.stream, error.revision, error.cause) == ("case-c1", 3, cause)
    assert error.reason is ReasonCode.UNREADABLE_EVENT
    assert str(error).startswith("case-c1@3 cannot be read")
    assert len(str(error)) < 1_100


@pytest.mark.parametrize("version", [1, "1", None], ids=["number", "string", "absent"])
def test_a_schema_version_as_written_before_and_now_reads(version: Any) -> None:
    metadata = {} if version is None else {"schemaVersion": version}

    stored = read_recorded(recorded("case.review_started", STARTED, metadata), event_registry())

    assert stored.event.event_type == "case.review_started"
