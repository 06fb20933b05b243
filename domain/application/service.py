"""The application service: `handle(CommandEnvelope) -> CommandResult` through the command
stack, and the command log for requests refused before they became commands.

The domain holds the pieces: the core (`pipeline`), the loader (`loader`), the decider and its
gates (`deciding`), the decorators (`middleware`). The composition root chooses and orders
them (`adapters/command_stack.py`, called by `adapters/bootstrap.py`) and hands the result to
`CommandService`; tests build theirs through the same function.

Layers, in an order that makes retries safe: an agent's rate (every command it sends) ->
schema -> identity/authorization -> tenant -> load -> tenant (another tenant's aggregate looks
absent) -> idempotency -> run budget -> version -> stream rule -> policy gate -> decide
(lifecycle -> policy -> evidence) -> append at the loaded revision.
Each command appends its events to exactly one stream, in one commit with its idempotency key's
reservation (`reservations`: one key, one command, per tenant and actor, across streams). A
concurrent writer yields CONFLICT, never a lost update; without an expected version from the
caller the service reloads and re-decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from caseledger.domain.application.budget import AgentRateLimit
from caseledger.domain.application.commandlog import QUERY_PREFIX, Refusal, record
from caseledger.domain.application.loader import AggregateLoader
from caseledger.domain.application.ports import CommandHandler, EventStore
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.clock import Clock
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult

__all__ = ["CommandService"]


@dataclass(frozen=True)
class CommandService:
    """The composed stack (`handler`) behind the entry points' `CommandHandler`, and the
    command log for requests refused before they became commands (`record_refusal`), which
    uses the same store, clock, loader and agent rate as the stack."""

    handler: CommandHandler
    store: EventStore
    clock: Clock
    loader: AggregateLoader
    rate_limit: AgentRateLimit

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        """Answer `envelope`; every answer but ACCEPTED/DUPLICATE_ACCEPTED is also recorded
        in the tenant's command log (`commandlog-<tenant>`)."""
        return self.handler.handle(envelope)

    def record_refusal(self, refusal: Refusal) -> None:
        """Record a request an entry point refused before it became a command (its body named
        another tenant or actor, or could not be read) in the command log of `refusal`'s
        tenant, which must be the caller's authenticated one. An agent's refused command still
        counts against its rate."""
        if refusal.actor_type == ActorType.AGENT.value and not refusal.command_type.startswith(
            QUERY_PREFIX
        ):
            per_minute = self.loader.policy_rules(refusal.tenant_id).agent_commands_per_minute
            self.rate_limit.admit(refusal.tenant_id, refusal.actor_id, per_minute)
        record(self.store, refusal, self.clock.now())
