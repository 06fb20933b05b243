"""The Policy decider. Until a supervisor publishes one, the seed's §5 table (`default`) holds.
Versions are never reused, so a decision can always name the rules it was taken under."""

from __future__ import annotations

from dataclasses import dataclass, field

from caseledger.domain.policy.commands import PolicyCommand
from caseledger.domain.policy.events import PolicyPublished
from caseledger.domain.shared.commands import Command
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.persistent import PSet
from caseledger.domain.shared.policy_rules import DEFAULT_POLICY_VERSION, DEFAULT_RULES, PolicyRules
from caseledger.domain.shared.reasons import ReasonCode


@dataclass(frozen=True)
class PolicyState:
    version: str = DEFAULT_POLICY_VERSION
    rules: PolicyRules = DEFAULT_RULES
    published: PSet[str] = field(default_factory=lambda: PSet([DEFAULT_POLICY_VERSION]))


def initial_state() -> PolicyState:
    return PolicyState()


def decide(command: Command[PolicyCommand], state: PolicyState) -> list[DomainEvent]:
    body, meta = command.body, command.meta
    if body.policy_version in state.published:
        raise Rejected(
            ReasonCode.POLICY_VERSION_EXISTS, f"policy {body.policy_version!r} already published"
        )
    return [
        PolicyPublished(
            tenant_id=meta.tenant_id,
            policy_version=body.policy_version,
            rules=body.rules.model_dump(mode="json"),
            published_by=meta.actor.key,
            supersedes=state.version,
        )
    ]


def evolve(state: PolicyState, event: DomainEvent) -> PolicyState:
    if not isinstance(event, PolicyPublished):
        return state
    return PolicyState(
        version=event.policy_version,
        rules=PolicyRules.model_validate(event.rules),
        published=state.published.add(event.policy_version),
    )
