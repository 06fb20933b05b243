"""The application service: `handle(CommandEnvelope) -> CommandResult`, the pipeline's core
(`pipeline`) with its loader, decider and decorators composed by `compose`.

Layers, in an order that makes retries safe: an agent's rate (every command it sends) ->
schema -> identity/authorization -> tenant -> load -> tenant (another tenant's aggregate looks
absent) -> idempotency -> run budget -> version -> stream rule -> policy gate -> decide
(lifecycle -> policy -> evidence) -> append at the loaded revision.
Each command appends its events to exactly one stream, in one commit with its idempotency key's
reservation (`reservations`: one key, one command, per tenant and actor, across streams). A
concurrent writer yields CONFLICT, never a lost update; without an expected version from the
caller the service reloads and re-decides.

Loading and appending are the loader's (`loader`). With `snapshot_every` > 0 (default 25),
once a stream is that many events past its last snapshot (a long stream's further apart:
`snapshots.SnapshotPolicy`) the service writes one after the
command's append, through `background` (best-effort: a failed snapshot write is logged and
never fails the command; see `middleware.Snapshotting`): on the command's own thread by
default, off the command's path when the composition root gives it a worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from caseledger.domain.application.budget import AgentRateLimit, RunBudgets
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.commandlog import QUERY_PREFIX, Refusal, record
from caseledger.domain.application.deciding import Decider, RunBudget
from caseledger.domain.application.loader import AggregateLoader
from caseledger.domain.application.middleware import (
    SNAPSHOTS_KEPT,
    CommandLogged,
    KeysReserved,
    RateLimited,
    Snapshotting,
)
from caseledger.domain.application.pipeline import LoadAndDecide, Pipeline
from caseledger.domain.application.ports import Background, CommandHandler, EventStore, RunNow
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.reservations import KeyReservations
from caseledger.domain.application.routes import ROUTES, Route
from caseledger.domain.application.snapshots import DEFAULT_EVERY, SnapshotPolicy
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.clock import Clock, SystemClock
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.ids import DerivedIds, IdGenerator

__all__ = ["SNAPSHOTS_KEPT", "CommandService", "Composed", "compose"]


class CommandService:
    """The composed stack (see `compose`) behind the entry points' `CommandHandler`, and the
    command log for requests refused before they became commands (`record_refusal`)."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        rate_limit: AgentRateLimit | None = None,
        routes: Mapping[str, Route] = ROUTES,
        registry: EventRegistry | None = None,
        max_attempts: int = 4,
        snapshot_every: int = DEFAULT_EVERY,
        background: Background | None = None,
    ) -> None:
        composed = compose(
            store,
            clock=clock or SystemClock(),
            ids=ids or DerivedIds(),
            rate_limit=rate_limit,
            routes=routes,
            registry=registry or event_registry(),
            max_attempts=max_attempts,
            snapshot_every=snapshot_every,
            background=background or RunNow(),
        )
        self._composed = composed

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        """Answer `envelope`; every answer but ACCEPTED/DUPLICATE_ACCEPTED is also recorded
        in the tenant's command log (`commandlog-<tenant>`)."""
        return self._composed.handler.handle(envelope)

    def record_refusal(self, refusal: Refusal) -> None:
        """Record a request an entry point refused before it became a command (its body named
        another tenant or actor, or could not be read) in the command log of `refusal`'s
        tenant, which must be the caller's authenticated one. An agent's refused command still
        counts against its rate."""
        c = self._composed
        if refusal.actor_type == ActorType.AGENT.value and not refusal.command_type.startswith(
            QUERY_PREFIX
        ):
            per_minute = c.loader.policy_rules(refusal.tenant_id).agent_commands_per_minute
            c.rate_limit.admit(refusal.tenant_id, refusal.actor_id, per_minute)
        record(c.store, refusal, c.clock.now())


@dataclass(frozen=True)
class Composed:
    """The stack `compose` built, and the parts a caller also needs."""

    handler: CommandHandler
    store: EventStore
    clock: Clock
    loader: AggregateLoader
    rate_limit: AgentRateLimit


def compose(
    store: EventStore,
    *,
    clock: Clock,
    ids: IdGenerator,
    rate_limit: AgentRateLimit | None,
    routes: Mapping[str, Route],
    registry: EventRegistry,
    max_attempts: int,
    snapshot_every: int,
    background: Background,
) -> Composed:
    """The command log around the agent's rate around the core; in the core, the key's
    reservation around each attempt, snapshots around the loader's append, and the run
    budget as the decider's gate."""
    snapshots = SnapshotPolicy(snapshot_every)
    aggregates = AggregateCache(store, registry, snapshots=snapshots)
    keys = KeyReservations(store, registry)
    loader = AggregateLoader(store, aggregates, registry, ids, keys)
    decide = Decider(loader, clock, ids, gates=[RunBudget(RunBudgets(store), loader)])
    writer = Snapshotting(loader, store, aggregates, snapshots, background)
    attempt = KeysReserved(LoadAndDecide(writer, decide), keys)
    rate = rate_limit or AgentRateLimit(clock)
    core = Pipeline(routes, attempt, max_attempts)
    handler = CommandLogged(RateLimited(core, rate, loader), store, clock)
    return Composed(handler, store, clock, loader, rate)
