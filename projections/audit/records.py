"""What the audit reads: committed events (with their KurrentDB metadata) and the side effects
the workers recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

SENSITIVE_FIELDS: Final = frozenset({"text", "body"})
"""Evidence text, brief and notice bodies: shown as their length, never verbatim."""


@dataclass(frozen=True)
class AuditEvent:
    event_id: str
    event_type: str
    stream: str
    revision: int
    position: int
    payload: dict[str, Any]
    metadata: dict[str, Any]
    unreadable: str | None = None
    """Why this code cannot read the event (it is listed, with no payload or metadata)."""

    @property
    def tenant_id(self) -> str:
        return str(self.metadata.get("tenantId") or self.payload.get("tenant_id") or "")

    @property
    def correlation_id(self) -> str | None:
        return self.metadata.get("$correlationId")

    @property
    def command_id(self) -> str | None:
        return self.metadata.get("commandId") or self.payload.get("command_id")

    @property
    def command_type(self) -> str | None:
        return self.metadata.get("commandType") or self.payload.get("command_type")

    @property
    def command_causation_id(self) -> str | None:
        return self.metadata.get("commandCausationId")

    @property
    def actor(self) -> str:
        kind = self.metadata.get("actorType") or self.payload.get("actor_type") or "?"
        who = self.metadata.get("actorId") or self.payload.get("actor_id") or "?"
        return f"{kind}:{who}"

    @property
    def run_id(self) -> str | None:
        return self.metadata.get("runId") or self.payload.get("run_id")

    @property
    def occurred_at(self) -> str | None:
        return self.metadata.get("occurredAt")

    @property
    def policy_version(self) -> str | None:
        return self.metadata.get("policyVersion")

    @property
    def outcome(self) -> str | None:
        return self.metadata.get("outcome") or self.payload.get("outcome")

    @property
    def refused(self) -> bool:
        return self.event_type == "commandlog.command_not_accepted"

    def shown_payload(self) -> dict[str, Any]:
        """The payload without verbatim sensitive text."""
        return {
            k: (f"<{len(v)} characters>" if k in SENSITIVE_FIELDS and isinstance(v, str) else v)
            for k, v in self.payload.items()
        }


@dataclass(frozen=True)
class SideEffect:
    """Something that happened outside the event store because of an event."""

    kind: str
    """`smtp_delivery` or `integration_publication`."""
    effect_id: str
    caused_by_event_id: str
    status: str
    attempts: int
    at: str | None
    detail: dict[str, Any] = field(default_factory=dict)
