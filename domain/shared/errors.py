"""Typed errors. Deciders raise `Rejected`; the application service turns it into a result.

Refusals quote what a caller sent only within bounds: at most `INPUT_BUDGET` characters of
input in any one description, each piece cut and marked (`clip`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from caseledger.domain.shared.reasons import ReasonCode

MAX_DESCRIBED: Final = 10
"""Field errors a description names at most."""
INPUT_BUDGET: Final = 200
"""Characters taken from the input that one refusal's description may carry at most."""
MAX_PIECE: Final = 64
"""Characters of one piece of input (a key name, a value) a description quotes at most."""
MAX_REASON: Final = 1000
"""Characters of a refusal's reason (its own words included): a bound for answers and records."""


def clip(text: str, limit: int = INPUT_BUDGET) -> str:
    """`text` if it is at most `limit` characters, else its first `limit` and a mark saying how
    many were cut (`abc…[+1200 characters]`)."""
    if len(text) <= limit:
        return text
    return f"{text[: max(limit, 0)]}…[+{len(text) - max(limit, 0)} characters]"


class _InputBudget:
    """Hands out pieces of input until `INPUT_BUDGET` characters are spent; then only marks."""

    def __init__(self, total: int = INPUT_BUDGET) -> None:
        self.left = total

    def quote(self, piece: str) -> str:
        taken = clip(piece, min(MAX_PIECE, self.left))
        self.left -= min(len(piece), MAX_PIECE, self.left)
        return taken


def describe_invalid(errors: Iterable[Mapping[str, Any]]) -> str:
    """One line naming each invalid field and why (`case_id: Field required; ...`), as pydantic
    reports them, without echoing the input: what a caller sent may be large or sensitive. Key
    names are the caller's too: at most `INPUT_BUDGET` characters of them, cut and marked."""
    items = list(errors)
    budget = _InputBudget()
    parts = [
        f"{'.'.join(budget.quote(str(p)) for p in item.get('loc', ())) or '(payload)'}: "
        f"{clip(str(item.get('msg', 'invalid')), MAX_PIECE * 2)}"
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
    """A stored event cannot be read safely; it is refused, never mis-read. Every such event
    is `unreadable_event` to callers; `cause` is the finer reason."""

    reason: ReasonCode = ReasonCode.UNREADABLE_EVENT
    cause: ReasonCode = ReasonCode.UNREADABLE_EVENT


class UnknownEventType(EventDecodingError):
    cause = ReasonCode.UNKNOWN_EVENT_TYPE

    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {clip(event_type, MAX_PIECE)!r}")
        self.event_type = event_type


class UnknownEventVersion(EventDecodingError):
    cause = ReasonCode.UNKNOWN_EVENT_VERSION

    def __init__(self, event_type: str, version: int, known: int) -> None:
        super().__init__(
            f"event type {event_type!r} at schema version {version}: this code reads up to "
            f"version {known} and has no upcaster from it"
        )
        self.event_type = event_type
        self.version = version
        self.known = known


class UnreadableEvent(EventDecodingError):
    """An event of a stream that this code cannot read, named by stream and revision: its type
    or schema version is unknown, or its data or metadata does not decode."""

    def __init__(
        self, stream: str, revision: int, problem: str, cause: ReasonCode | None = None
    ) -> None:
        self.cause = cause or ReasonCode.UNREADABLE_EVENT
        why = "" if self.cause is ReasonCode.UNREADABLE_EVENT else f" ({self.cause.value})"
        super().__init__(clip(f"{stream}@{revision} cannot be read{why}: {problem}", MAX_REASON))
        self.stream = stream
        self.revision = revision
