"""Typed errors. Deciders raise `Rejected`; the application service turns it into a result."""

from __future__ import annotations

from caseledger.domain.shared.reasons import ReasonCode


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
