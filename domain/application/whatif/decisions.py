"""Re-deciding one past command under some rules, with the domain's own policy gate and
deciders: the outcome it would have had, as a value to compare."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from caseledger.domain.application import layers
from caseledger.domain.application.outcomes import outcome_of
from caseledger.domain.application.routes import ROUTES
from caseledger.domain.application.whatif.commands import REBUILDERS, body_of
from caseledger.domain.application.whatif.past import PastCommand
from caseledger.domain.shared.commands import Command, CommandMeta
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.policy_rules import PolicyRules

WHAT_IF_SEED = uuid.UUID("6f1c9a52-4d0e-4b7a-9c55-0d6a3e2f8b11")
"""Ids a re-decision mints are derived from it and the event's place; they are never written."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    """How a command is answered: its outcome and the event types it writes, or the reason
    code that refuses it. `unknown` is a refused command the command log cannot re-decide past
    the rule that refused it (it keeps no payload)."""

    outcome: str
    events: tuple[str, ...] = ()
    reason_code: str | None = None

    @property
    def text(self) -> str:
        detail = self.reason_code if self.reason_code else ", ".join(self.events)
        return f"{self.outcome} ({detail})" if detail else self.outcome


def as_recorded(past: PastCommand) -> Outcome:
    return Outcome(past.outcome, tuple(event.event_type for event in past.events))


def depends_on_policy(past: PastCommand) -> bool:
    """Agents' commands pass the policy's gate; the rebuildable ones are decided on it."""
    return past.command_type in ROUTES and (
        past.who.actor.is_agent or past.command_type in REBUILDERS
    )


def redecider(past: PastCommand, case: CaseFacts | None) -> Callable[[PolicyRules], Outcome]:
    """`past` re-decided under rules (raises NotRebuilt where its body cannot be rebuilt): the
    policy gate, then the decider on the state it was decided on, under its own policy version
    (so a decision is not renewed for a version change the what-if does not make)."""
    route = ROUTES[past.command_type]
    rebuilt = past.command_type in REBUILDERS
    body = body_of(past.command_type, past.events, past.state) if rebuilt else None

    def decide(rules: PolicyRules) -> Outcome:
        actor = past.who.actor
        try:
            layers.policy_gate(route, actor, rules)
        except layers.Refused as refused:
            return Outcome("rejected", reason_code=refused.reason.value)
        if body is None:
            return as_recorded(past)
        meta = CommandMeta(
            command_id=past.command_id,
            tenant_id=_tenant(past),
            actor=actor,
            issued_at=past.occurred_at or _EPOCH,
            policy_version=past.policy_version,
            policy=rules,
            id_seed=uuid.uuid5(WHAT_IF_SEED, f"{past.stream}@{past.revision}"),
            case=case,
        )
        try:
            events = route.aggregate.decide(Command(body, meta), past.state)
        except Rejected as rejection:
            return Outcome("rejected", reason_code=rejection.reason.value)
        status, _ = outcome_of(events)
        return Outcome(status.value, tuple(event.event_type for event in events))

    return decide


def _tenant(past: PastCommand) -> str:
    return past.aggregate.tenant_of(past.state) or ""
