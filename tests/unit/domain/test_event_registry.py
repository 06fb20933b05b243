"""Stored event types are stable names with schema versions; older versions are upcast, unknown
ones refused with a typed error, never mis-read — whether the payload comes parsed or as the
stored JSON bytes (`decode_json`, the path every stored event is read through)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import orjson
import pytest

from caseledger.domain.application.registry import event_registry
from caseledger.domain.case.events import CaseOpened
from caseledger.domain.shared.errors import (
    EventDecodingError,
    UnknownEventType,
    UnknownEventVersion,
)
from caseledger.domain.shared.events import DomainEvent, EventRegistry, MalformedEvent


class WarningIssued(DomainEvent):
    """A test-only event at schema version 3: v1 had `text`, v2 renamed it `message`, v3
    added `severity`."""

    event_type: ClassVar[str] = "test.warning_issued"
    schema_version: ClassVar[int] = 3
    message: str
    severity: str


def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"message": data["text"]}


def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "severity": "low"}


Decode = Callable[[str, int, dict[str, Any]], DomainEvent]


@pytest.fixture
def registry() -> EventRegistry:
    registry = EventRegistry([WarningIssued])
    registry.register_upcaster("test.warning_issued", 1, v1_to_v2)
    registry.register_upcaster("test.warning_issued", 2, v2_to_v3)
    return registry


@pytest.fixture(params=["parsed", "stored bytes"])
def decode(request: pytest.FixtureRequest, registry: EventRegistry) -> Decode:
    """`registry.decode`, or `decode_json` of the same payload as stored."""
    if request.param == "parsed":
        return registry.decode
    return lambda event_type, version, payload: registry.decode_json(
        event_type, version, orjson.dumps(payload)
    )


def test_the_current_version_is_read_as_is(decode: Decode) -> None:
    event = decode("test.warning_issued", 3, {"message": "m", "severity": "high"})
    assert event == WarningIssued(message="m", severity="high")


def test_older_versions_are_upcast_step_by_step(decode: Decode) -> None:
    assert decode("test.warning_issued", 1, {"text": "m"}) == WarningIssued(
        message="m", severity="low"
    )


def test_a_newer_version_than_this_code_knows_is_refused(decode: Decode) -> None:
    with pytest.raises(UnknownEventVersion, match="version 4"):
        decode("test.warning_issued", 4, {"message": "m", "severity": "x"})


def test_an_older_version_without_an_upcaster_is_refused() -> None:
    bare = EventRegistry([WarningIssued])
    with pytest.raises(UnknownEventVersion):
        bare.decode("test.warning_issued", 2, {"message": "m"})
    with pytest.raises(UnknownEventVersion):
        bare.decode_json("test.warning_issued", 2, b'{"message": "m"}')


def test_an_unknown_event_type_is_refused(decode: Decode) -> None:
    with pytest.raises(UnknownEventType):
        decode("case.teleported", 1, {})


def test_a_payload_that_does_not_match_its_schema_is_refused(decode: Decode) -> None:
    with pytest.raises(MalformedEvent):
        decode("test.warning_issued", 3, {"message": "m", "severity": "x", "extra": 1})


@pytest.mark.parametrize("version", [1, 3], ids=["to upcast", "current"])
@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'"text"'])
def test_stored_bytes_that_are_no_json_object_are_refused(
    registry: EventRegistry, version: int, data: bytes
) -> None:
    with pytest.raises(EventDecodingError):
        registry.decode_json("test.warning_issued", version, data)


def test_every_write_side_event_has_a_stable_dotted_name_registered_once() -> None:
    registry = event_registry()
    assert registry.knows("case.opened")
    assert registry.knows("notice_draft.approved")
    assert registry.knows("policy.published")
    assert registry.knows("commandlog.command_not_accepted")
    assert CaseOpened.payload_schema() == "case.opened.v1"
    with pytest.raises(ValueError, match="twice"):
        registry.register(CaseOpened)
