"""Events as projections see them: decoded once, shared by every projection.

A projection reads the stored JSON payload by the catalogue's field names (docs/catalogue.md),
not the write side's classes, so a read model does not break while the domain code moves. It
refuses what it cannot read: a payload that is not a JSON object, or a schema version other
than the one it was written for, raises `UndecodableEvent` (the runner parks it, visibly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from caseledger.domain.application.ports import RecordedEvent
from caseledger.domain.shared import streams

CATEGORIES: Final = ("case", "noticedraft", "policy", "run", "commandlog")
"""The stream categories the read side follows (`case-<tenant>_<id>`, `noticedraft-<tenant>_<id>`,
`policy-<tenant>`; agent runs `run-<tenant>_<id>` and the command log `commandlog-<tenant>` for
the audit index alone); every other category is left alone by name in `NOT_FOLLOWED`."""

CATALOGUED_TYPES: Final[dict[str, frozenset[str]]] = {
    "case": frozenset(
        {
            "case.opened",
            "case.review_started",
            "case.evidence_submitted",
            "case.evidence_approved",
            "case.evidence_rejected",
            "case.analyst_brief_created",
            "case.risk_update_proposed",
            "case.escalation_proposed",
            "case.proposal_reevaluated",
            "case.proposal_declined",
            "case.risk_level_changed",
            "case.escalated",
            "case.closed",
            "case.dismissed",
        }
    ),
    "noticedraft": frozenset(
        {
            "notice_draft.drafted",
            "notice_draft.revised",
            "notice_draft.approval_requested",
            "notice_draft.approval_request_renewed",
            "notice_draft.approved",
            "notice_draft.rejected",
            "notice_draft.withdrawn",
            "notice_draft.send_requested",
            "notice_draft.sent",
        }
    ),
    "policy": frozenset({"policy.published"}),
    "run": frozenset({"run.started", "run.model_response_recorded", "run.tool_call_recorded"}),
    "commandlog": frozenset({"commandlog.command_not_accepted"}),
}
"""The event types of each followed category (docs/catalogue.md). Every projection names each
type of its categories as handled or ignored (a test holds it to that); a type not here is one
this code does not know, and a view that follows its category parks it."""

NOT_FOLLOWED: Final = (
    streams.RUN_BUDGET,
    *streams.NOT_FACTS,
    "caseledger",
)
"""Categories the read side leaves alone by name (`caseledger`: the store-format marker): the
server filters `$all` to `CATEGORIES`, so their events never reach a view (only the checkpoints
past them do). A category a later issue adds (key reservations, budgets, the audit index) is
named here or in `CATEGORIES` — a test holds every category of `domain.shared.streams` to one
of the two."""

READABLE_SCHEMA_VERSION: Final = 1
"""Every catalogued event is at schema version 1; a later one needs this code to learn it."""


class UndecodableEvent(Exception):
    """The event cannot be read as a catalogued fact (bad JSON, unknown schema version)."""


@dataclass(frozen=True, slots=True)
class ProjectedEvent:
    """One recorded fact with what a view needs to reference it: id, stream, revision, position.
    Its category and source ref are computed once: every projection's track reads them."""

    event_id: str
    stream: str
    revision: int
    position: int
    type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    category: str = field(init=False, repr=False, compare=False)
    """The stream's category: `case` of `case-<tenant>_<id>`."""
    ref: str = field(init=False, repr=False, compare=False)
    """A source reference: `stream@revision#event-id`, enough to re-read the fact."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", self.stream.partition("-")[0])
        object.__setattr__(self, "ref", f"{self.stream}@{self.revision}#{self.event_id}")

    @property
    def tenant_id(self) -> str:
        """The owning tenant: the metadata's `tenantId`, else the payload's `tenant_id`."""
        tenant = self.metadata.get("tenantId") or self.payload.get("tenant_id")
        if not isinstance(tenant, str) or not tenant:
            raise UndecodableEvent(f"{self.ref}: no tenant in metadata or payload")
        return tenant

    @property
    def occurred_at(self) -> str | None:
        value = self.metadata.get("occurredAt")
        return value if isinstance(value, str) else None

    def text(self, name: str) -> str:
        value = self.payload.get(name)
        if not isinstance(value, str):
            raise UndecodableEvent(f"{self.ref}: {self.type} has no text field {name!r}")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.payload.get(name)
        return value if isinstance(value, str) else None


def decode(recorded: RecordedEvent) -> ProjectedEvent:
    """Read a recorded event's JSON data and metadata; refuse unknown schema versions."""
    payload = _json_object(recorded.data, recorded, "data")
    metadata = _json_object(recorded.metadata, recorded, "metadata") if recorded.metadata else {}
    version = metadata.get("schemaVersion", READABLE_SCHEMA_VERSION)
    if str(version) != str(READABLE_SCHEMA_VERSION):
        raise UndecodableEvent(
            f"{recorded.stream}@{recorded.revision}: {recorded.type} schema version {version} "
            f"is not readable here (reads v{READABLE_SCHEMA_VERSION})"
        )
    return ProjectedEvent(
        event_id=str(recorded.id),
        stream=recorded.stream,
        revision=recorded.revision,
        position=recorded.commit_position,
        type=recorded.type,
        payload=payload,
        metadata=metadata,
    )


def undecoded(recorded: RecordedEvent) -> ProjectedEvent:
    """The event's identity without its body, to park an event that cannot be decoded."""
    return ProjectedEvent(
        event_id=str(recorded.id),
        stream=recorded.stream,
        revision=recorded.revision,
        position=recorded.commit_position,
        type=recorded.type,
        payload={},
        metadata={},
    )


def _json_object(raw: bytes, recorded: RecordedEvent, part: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise UndecodableEvent(
            f"{recorded.stream}@{recorded.revision}: {part} is not JSON"
        ) from error
    if not isinstance(value, dict):
        raise UndecodableEvent(f"{recorded.stream}@{recorded.revision}: {part} is not an object")
    return value
