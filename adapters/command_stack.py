"""The command stack, as the composition root builds it: the domain's pieces
(`domain/application/`) chosen and put in order. Part of the composition root: `bootstrap` and
`bootstrap_session` call it, and so does the tests' factory
(`tests/support/services.command_service`), so a test runs the stack production runs.

Outermost first:

    TracedCommands   with telemetry: a span, counters, one log line (adapters/observability)
    CommandLogged    a refusal is also written to the tenant's command log
    RateLimited      an agent's commands a minute, before any other layer
    Pipeline         the stateless layers, then attempts until one answers
      KeysReserved   around an attempt: a key another command reserved answers as that one
      LoadAndDecide  load -> decide -> append
        Snapshotting around the loader (AggregateLoader): a snapshot after an append, when due
        Decider      idempotency, its gates (RunBudget), version, stream rule, policy gate

A decorator takes what it wraps and keeps its contract (`CommandHandler` around the whole
handler, `Attempt` around an attempt, `Loader` around loading and appending); add one by
writing it (in `domain/application/middleware.py` when it needs no I/O) and placing it here.

With `snapshot_every` > 0 (default 25), once a stream is that many events past its last
snapshot (a long stream's further apart: `snapshots.SnapshotPolicy`) one is written after the
command's append, through `background` (best-effort; see
`middleware.Snapshotting`): on the command's own thread by default, off the command's path
when the caller gives a worker (`bootstrap` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from caseledger.adapters.observability.services import TracedCommands
from caseledger.adapters.observability.setup import Telemetry
from caseledger.domain.application.budget import AgentRateLimit, RunBudgets
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.deciding import Decider, RunBudget
from caseledger.domain.application.loader import AggregateLoader
from caseledger.domain.application.middleware import (
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
from caseledger.domain.application.service import CommandService
from caseledger.domain.application.snapshots import DEFAULT_EVERY, SnapshotPolicy
from caseledger.domain.shared.clock import Clock, SystemClock
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.ids import DerivedIds, IdGenerator

MAX_ATTEMPTS: Final = 4
"""Attempts at a command whose append keeps losing to another writer before CONFLICT."""


def command_service(
    store: EventStore,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    rate_limit: AgentRateLimit | None = None,
    routes: Mapping[str, Route] = ROUTES,
    registry: EventRegistry | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    snapshot_every: int = DEFAULT_EVERY,
    background: Background | None = None,
    telemetry: Telemetry | None = None,
) -> CommandService:
    """The command service on `store`: the stack above, each part the caller does not pass
    built as production builds it (system clock, derived ids, the routes and event registry
    of the domain, snapshots written on the command's thread, no tracing)."""
    clock = clock or SystemClock()
    ids = ids or DerivedIds()
    registry = registry or event_registry()
    snapshots = SnapshotPolicy(snapshot_every)
    aggregates = AggregateCache(store, registry, snapshots=snapshots)
    keys = KeyReservations(store, registry)
    loader = AggregateLoader(store, aggregates, registry, ids, keys)
    decide = Decider(loader, clock, ids, gates=[RunBudget(RunBudgets(store), loader)])
    writer = Snapshotting(loader, store, aggregates, snapshots, background or RunNow())
    attempt = KeysReserved(LoadAndDecide(writer, decide), keys)
    core = Pipeline(routes, attempt, max_attempts)
    rate = rate_limit or AgentRateLimit(clock)
    handler: CommandHandler = CommandLogged(RateLimited(core, rate, loader), store, clock)
    if telemetry is not None:
        handler = TracedCommands(handler, telemetry.tracer, telemetry.meter)
    return CommandService(handler, store, clock, loader, rate)
