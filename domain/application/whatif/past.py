"""Past commands as the history holds them: the events one command wrote (consecutive events of
a stream sharing a `commandId`), who asked it with which roles, under which policy version, and
the aggregate as it was just before it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.codec import StoredEvent, roles_of
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.policy_rules import DEFAULT_POLICY_VERSION


@dataclass(frozen=True)
class Who:
    """The actor of a past command; `roles_recorded` False for a user whose events predate
    `actorRoles` (its roles are then unknown, not none)."""

    actor: Actor
    roles_recorded: bool

    @property
    def text(self) -> str:
        roles = ",".join(sorted(role.value for role in self.actor.roles))
        return f"{self.actor.key} ({roles})" if roles else self.actor.key


def who_of(metadata: Mapping[str, Any]) -> Who:
    """The actor `metadata` names (an unknown actor type reads as the system: no roles, no
    agent gate), with the roles `actorRoles` records."""
    kinds = {kind.value: kind for kind in ActorType}
    actor_type = kinds.get(str(metadata.get("actorType", "")), ActorType.SYSTEM)
    recorded = roles_of(metadata)
    known = {role.value: role for role in Role}
    roles = frozenset(known[r] for r in recorded or () if r in known)
    return Who(
        Actor(actor_type, str(metadata.get("actorId", "")), roles, _text(metadata.get("runId"))),
        recorded is not None or actor_type is not ActorType.USER,
    )


def occurred_at(metadata: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(metadata["occurredAt"]))
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class PastCommand:
    aggregate: Aggregate[Any]
    stream: str
    revision: int
    """The stream revision of its first event."""
    position: int
    command_id: str
    command_type: str
    who: Who
    policy_version: str
    occurred_at: datetime | None
    outcome: str
    """How it was answered (`accepted`, `requires_approval`), from its events' metadata."""
    events: tuple[DomainEvent, ...]
    state: Any
    """The aggregate just before the command."""
    facts_read: Mapping[str, int]
    """Other streams read when it was decided (`factsRead`), at the revisions read."""

    @property
    def where(self) -> str:
        return f"{self.stream}@{self.revision}"


def past_commands(
    aggregate: Aggregate[Any], stored: Sequence[StoredEvent]
) -> Iterator[PastCommand]:
    """Each command of one stream (events in revision order), with the state before it."""
    state = aggregate.initial_state()
    for batch in _batches(stored):
        first = batch[0]
        meta = first.metadata
        yield PastCommand(
            aggregate=aggregate,
            stream=first.recorded.stream,
            revision=first.recorded.revision,
            position=first.recorded.commit_position,
            command_id=str(meta.get("commandId", "")),
            command_type=str(meta.get("commandType", "")),
            who=who_of(meta),
            policy_version=str(meta.get("policyVersion") or DEFAULT_POLICY_VERSION),
            occurred_at=occurred_at(meta),
            outcome=str(meta.get("outcome", "accepted")),
            events=tuple(s.event for s in batch),
            state=state,
            facts_read=_facts_read(meta.get("factsRead")),
        )
        for event in batch:
            state = aggregate.evolve(state, event.event)


def state_at(aggregate: Aggregate[Any], stored: Sequence[StoredEvent], revision: int) -> Any:
    """The aggregate folded up to and including `revision`."""
    state = aggregate.initial_state()
    for event in stored:
        if event.recorded.revision > revision:
            break
        state = aggregate.evolve(state, event.event)
    return state


def _batches(stored: Sequence[StoredEvent]) -> Iterator[list[StoredEvent]]:
    batch: list[StoredEvent] = []
    for event in stored:
        if batch and event.metadata.get("commandId") != batch[0].metadata.get("commandId"):
            yield batch
            batch = []
        batch.append(event)
    if batch:
        yield batch


def _facts_read(text: object) -> dict[str, int]:
    facts: dict[str, int] = {}
    for item in str(text or "").split(","):
        stream, _, revision = item.rpartition("@")
        if stream and revision.isdigit():
            facts[stream] = int(revision)
    return facts


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
