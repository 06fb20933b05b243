"""Typed errors. Deciders raise `Rejected`; the application service turns it into a result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from caseledger.domain.shared.reasons import ReasonCode

MAX_DESCRIBED: Final = 10
"""Field errors a description names at most."""


def describe_invalid(errors: Iterable[Mapping[str, Any]]) -> str:
    """One line naming each invalid field and why (`case_id: Field required; ...`), as pydantic
    reports them, without echoing the input: what a caller sent may be large or sensitive."""
    items = list(errors)
    parts = [
        f"{'.'.join(str(p) for p in item.get('loc', ())) or '(payload)'}: "
        f"{item.get('msg', 'invalid')}"
        for item in items[:MAX_DESCRIBED]
    ]
    if len(items) > MAX_DESCRIBED:
        parts.append(f"and {len(items) - MAX_DESCRIBED} more")
    return "; ".join(parts) or "invalid"


class Rejected(Exception):
    """A command breaks a rule: nothing is written, the reason code says which rule."""

    def __init__(self, reason: ReasonCode, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class EventDecodingError(Exception):
    """A stored event cannot be read safely; it is refused, never mis-read."""

    reason: ReasonCode


class UnknownEventType(EventDecodingError):
    reason = ReasonCode.UNKNOWN_EVENT_TYPE

    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class UnknownEventVersion(EventDecodingError):
    reason = ReasonCode.UNKNOWN_EVENT_VERSION

    def __init__(self, event_type: str, version: int, known: int) -> None:
        super().__init__(
            f"event type {event_type!r} at schema version {version}: this code reads up to "
            f"version {known} and has no upcaster from it"
        )
        self.event_type = event_type
        self.version = version
        self.known = known
