"""Stored event types are stable names with schema versions; older versions are upcast, unknown
ones refused with a typed error, never mis-read."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from caseledger.domain.application.registry import event_registry
from caseledger.domain.case.events import CaseOpened
from caseledger.domain.shared.errors import UnknownEventType, UnknownEventVersion
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


@pytest.fixture
def registry() -> EventRegistry:
    registry = EventRegistry([WarningIssued])
    registry.register_upcaster("test.warning_issued", 1, v1_to_v2)
    registry.register_upcaster("test.warning_issued", 2, v2_to_v3)
    return registry


def test_the_current_version_is_read_as_is(registry: EventRegistry) -> None:
    event = registry.decode("test.warning_issued", 3, {"message": "m", "severity": "high"})
    assert event == WarningIssued(message="m", severity="high")


def test_older_versions_are_upcast_step_by_step(registry: EventRegistry) -> None:
    assert registry.decode("test.warning_issued", 1, {"text": "m"}) == WarningIssued(
        message="m", severity="low"
    )


def test_a_newer_version_than_this_code_knows_is_refused(registry: EventRegistry) -> None:
    with pytest.raises(UnknownEventVersion, match="version 4"):
        registry.decode("test.warning_issued", 4, {"message": "m", "severity": "x"})


def test_an_older_version_without_an_upcaster_is_refused() -> None:
    with pytest.raises(UnknownEventVersion):
        EventRegistry([WarningIssued]).decode("test.warning_issued", 2, {"message": "m"})


def test_an_unknown_event_type_is_refused(registry: EventRegistry) -> None:
    with pytest.raises(UnknownEventType):
        registry.decode("case.teleported", 1, {})


def test_a_payload_that_does_not_match_its_schema_is_refused(registry: EventRegistry) -> None:
    with pytest.raises(MalformedEvent):
        registry.decode("test.warning_issued", 3, {"message": "m", "severity": "x", "extra": 1})


def test_every_write_side_event_has_a_stable_dotted_name_registered_once() -> None:
    registry = event_registry()
    assert registry.knows("case.opened")
    assert registry.knows("notice_draft.approved")
    assert registry.knows("policy.published")
    assert registry.knows("commandlog.command_not_accepted")
    assert CaseOpened.payload_schema() == "case.opened.v1"
    with pytest.raises(ValueError, match="twice"):
        registry.register(CaseOpened)
