"""Domain events and the registry that reads them back.

Stored event types are stable names (`case.escalated`) with an integer schema version, never
Python paths. The registry upcasts older versions step by step; an unknown type or a version with
no upcaster path is refused with a typed error, never mis-read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from caseledger.domain.shared.errors import (
    EventDecodingError,
    UnknownEventType,
    UnknownEventVersion,
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a payload at version N into the same fact at version N + 1."""


class DomainEvent(BaseModel):
    """A fact, past tense, immutable. Subclasses name their stable `event_type` and the
    `schema_version` this code writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    @classmethod
    def payload_schema(cls) -> str:
        return f"{cls.event_type}.v{cls.schema_version}"

    def payload(self) -> dict[str, Any]:
        """The JSON-ready payload stored as the event's data."""
        return self.model_dump(mode="json")


class MalformedEvent(EventDecodingError):
    """A stored payload does not match its declared type and version."""

    def __init__(self, event_type: str, version: int, error: ValidationError) -> None:
        super().__init__(
            f"event {event_type!r} v{version} does not match its schema: "
            f"{error.error_count()} error(s), first at "
            f"{'.'.join(str(p) for p in error.errors()[0]['loc']) or '(payload)'}"
        )


class MalformedPayload(EventDecodingError):
    """A stored payload is not a JSON object."""

    def __init__(self, event_type: str, version: int, problem: str) -> None:
        super().__init__(f"event {event_type!r} v{version} is not a JSON object: {problem}")


class EventRegistry:
    """Event types by stable name, with upcasters between their schema versions."""

    def __init__(self, models: Iterable[type[DomainEvent]] = ()) -> None:
        self._models: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for model in models:
            self.register(model)

    def register(self, model: type[DomainEvent]) -> None:
        """Register `model` under its event type; a name is registered once."""
        if model.event_type in self._models:
            raise ValueError(f"event type {model.event_type!r} registered twice")
        self._models[model.event_type] = model

    def register_upcaster(self, event_type: str, from_version: int, upcaster: Upcaster) -> None:
        """Read version `from_version` of `event_type` as version `from_version + 1`."""
        self._upcasters[(event_type, from_version)] = upcaster

    def knows(self, event_type: str) -> bool:
        return event_type in self._models

    def decode(self, event_type: str, version: int, payload: Mapping[str, Any]) -> DomainEvent:
        """The event as this code understands it, upcast from `version` to the current one."""
        model = self._models.get(event_type)
        if model is None:
            raise UnknownEventType(event_type)
        return self._upcast_and_validate(model, event_type, version, dict(payload))

    def decode_json(self, event_type: str, version: int, data: bytes) -> DomainEvent:
        """`decode` of a stored payload, the JSON itself: at the current version it is
        validated straight from the bytes (one parse, in pydantic-core); an older version is
        parsed and upcast first. Invalid JSON is refused as malformed, never mis-read."""
        model = self._models.get(event_type)
        if model is None:
            raise UnknownEventType(event_type)
        if version == model.schema_version:
            try:  # the validator itself, not `model_validate_json`'s wrapper: once per event read
                event: DomainEvent = model.__pydantic_validator__.validate_json(data)
                return event
            except ValidationError as error:
                raise MalformedEvent(event_type, version, error) from error
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise MalformedPayload(event_type, version, str(error)) from error
        if not isinstance(payload, dict):
            raise MalformedPayload(event_type, version, "not a JSON object")
        return self._upcast_and_validate(model, event_type, version, payload)

    def _upcast_and_validate(
        self, model: type[DomainEvent], event_type: str, version: int, data: dict[str, Any]
    ) -> DomainEvent:
        current = version
        while current < model.schema_version:
            upcaster = self._upcasters.get((event_type, current))
            if upcaster is None:
                raise UnknownEventVersion(event_type, version, model.schema_version)
            data = upcaster(data)
            current += 1
        if current != model.schema_version:
            raise UnknownEventVersion(event_type, version, model.schema_version)
        try:
            event: DomainEvent = model.__pydantic_validator__.validate_python(data)
            return event
        except ValidationError as error:
            raise MalformedEvent(event_type, version, error) from error
