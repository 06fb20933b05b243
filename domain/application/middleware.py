"""The decorators around the pipeline's core (Emmett's middleware), each with the contract of
what it wraps: the command log and the agent's rate around the whole handler
(`CommandHandler`), the idempotency key's reservation around an attempt (`Attempt`), and
snapshots around the loader's append (`Loader`). The composition root puts them in order
(`adapters/command_stack.py`)."""

from __future__ import annotations

import logging
from typing import Any, Final

from caseledger.domain.application.budget import AgentRateLimit
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.commandlog import record_not_accepted
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loader import AggregateLoader
from caseledger.domain.application.loading import Loaded
from caseledger.domain.application.pipeline import (
    Attempt,
    Conflict,
    Decision,
    Load,
    Request,
    Step,
    Unread,
)
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    Background,
    CommandHandler,
    EventStore,
)
from caseledger.domain.application.reservations import KeyReservations
from caseledger.domain.application.results import refused
from caseledger.domain.application.snapshots import SnapshotPolicy, encode, snapshot_stream
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.clock import Clock
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode

log = logging.getLogger(__name__)

SNAPSHOTS_KEPT: Final = 2
"""Snapshots a stream keeps readable: the latest, and one before it should the latest be
unusable."""


class CommandLogged:
    """Every answer but ACCEPTED/DUPLICATE_ACCEPTED is also recorded in the tenant's command
    log (`commandlog-<tenant>`)."""

    def __init__(self, inner: CommandHandler, store: EventStore, clock: Clock) -> None:
        self._inner, self._store, self._clock = inner, store, clock

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        result = self._inner.handle(envelope)
        record_not_accepted(self._store, envelope, result, self._clock.now())
        return result


class RateLimited:
    """Rate, before any other layer: every command an agent sends counts against its
    tenant's `agent_commands_per_minute` (policy as last loaded; see `budget`)."""

    def __init__(
        self, inner: CommandHandler, rate_limit: AgentRateLimit, loader: AggregateLoader
    ) -> None:
        self._inner, self._rate_limit, self._loader = inner, rate_limit, loader

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        if envelope.requested_by_actor_type is not ActorType.AGENT:
            return self._inner.handle(envelope)
        agent_id = envelope.requested_by_actor_id
        per_minute = self._loader.policy_rules(envelope.tenant_id).agent_commands_per_minute
        if self._rate_limit.admit(envelope.tenant_id, agent_id, per_minute):
            return self._inner.handle(envelope)
        reason, detail = ReasonCode.RATE_LIMITED, f"agent {agent_id}: over {per_minute}/min"
        return refused(envelope, Refused(CommandOutcome.REJECTED, reason, detail), None)


class KeysReserved:
    """A command whose key another command reserved (across streams) is answered as that one:
    when it is refused, or when its append lost the race for the key's reservation stream
    (a duplicate, or `idempotency_key_reused`)."""

    def __init__(self, inner: Attempt, keys: KeyReservations) -> None:
        self._inner, self._keys = inner, keys

    def __call__(self, request: Request, fresh: bool) -> Step:
        step = self._inner(request, fresh)
        if isinstance(step, Refused) or (
            isinstance(step, Conflict) and step.stream == request.reservation
        ):
            return self._reserved(request) or step
        return step

    def _reserved(self, request: Request) -> CommandResult | Refused | None:
        try:
            return self._keys.answer(request.envelope, request.actor.key, request.digest)
        except Refused as refusal:
            return refusal


class Snapshotting:
    """After a command's append, when one is due: a snapshot of the aggregate as loaded
    (immutable, so it may be encoded on another thread), handed to `background` (run at once
    by default, on a thread of its own as `bootstrap` wires it). It is noted at once, so the
    commands that follow do not ask for it again while it waits or is written (one that fails
    is tried again `every` events later)."""

    def __init__(
        self,
        inner: AggregateLoader,
        store: EventStore,
        aggregates: AggregateCache,
        policy: SnapshotPolicy,
        background: Background,
    ) -> None:
        self._inner, self._store, self._aggregates = inner, store, aggregates
        self._policy, self._background = policy, background

    def load(self, request: Request, fresh: bool) -> Load | Refused:
        return self._inner.load(request, fresh)

    def commit(self, decision: Decision) -> CommandResult | Unread | Conflict:
        result = self._inner.commit(decision)
        stored = decision.load.stored
        if isinstance(result, CommandResult) and self._policy.due(stored):
            self._aggregates.noted_snapshot(stored.stream, stored.revision)
            self._background.submit(stored.stream, lambda: self._write(stored))
        return result

    def _write(self, stored: Loaded[Any]) -> None:
        """Best-effort: a failure is logged. The first snapshot this service writes for a
        stream also tells the store to keep only the newest SNAPSHOTS_KEPT of them (loads read
        only the latest)."""
        stream = snapshot_stream(stored.stream)
        try:
            self._store.append(stream, [encode(stored)], ANY)
            if stored.snapshot_revision == NO_STREAM:
                self._store.keep_latest(stream, SNAPSHOTS_KEPT)
        except Exception:
            log.warning(
                "snapshot of %s@%d not written", stored.stream, stored.revision, exc_info=True
            )
