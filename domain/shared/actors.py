"""Who issues commands: users with roles, agents (name and run), and the system."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorType(StrEnum):
    USER = "user"
    AGENT = "agent"
    SYSTEM = "system"


class Role(StrEnum):
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Actor:
    """An accountable actor. Users carry roles (set by the authenticated entry point); agents
    carry their run id and no roles; the system has neither."""

    type: ActorType
    id: str
    roles: frozenset[Role] = frozenset()
    run_id: str | None = None

    @property
    def key(self) -> str:
        """`type:id`, the actor's identity for four-eyes checks and idempotency scopes."""
        return f"{self.type.value}:{self.id}"

    @property
    def is_agent(self) -> bool:
        return self.type is ActorType.AGENT

    def has_any_role(self, roles: frozenset[Role]) -> bool:
        return self.type is ActorType.USER and bool(self.roles & roles)
