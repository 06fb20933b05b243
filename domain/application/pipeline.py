"""The command pipeline's core, as Eventuous's `Handle`: route -> load by the route's expected
state -> decide -> append -> result.

Every step answers with a value, never an exception: a `CommandResult` (the answer), a
`Refused` (the answer, once given its stream), `UNREAD` (a refusal decided on cached state
nobody read: decide again on read state; not an attempt) or a `Conflict` (another writer won
the append: decide again on read state; an attempt, `max_attempts` in all). The stateless
layers run first, in order: schema, identity/authorization, tenant (see `layers`).

What the core calls is composed around it by the composition root (`adapters/command_stack.py`):
the loader (cache, reads, snapshots, checked appends, the fallback for stores without checks,
the hash chain's link), the decider (with its gates, the run budget), and the decorators that
wrap an attempt (the idempotency key's reservation) or the whole handler (the agent's rate,
the command log, tracing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Protocol

from caseledger.domain.application import layers, reservations
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loading import Loaded
from caseledger.domain.application.ports import StreamWrite
from caseledger.domain.application.results import refused
from caseledger.domain.application.routes import Route
from caseledger.domain.case.state import CaseState
from caseledger.domain.policy.decider import PolicyState
from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.commands import CommandBody, CommandMeta
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.ids import digest_of
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode


class Pipeline:
    """The core. Stateless layers -> attempts until one answers: `UNREAD` decides again on
    read state, a `Conflict` too, until `max_attempts` conflicts give up as CONFLICT."""

    def __init__(self, routes: Mapping[str, Route], attempt: Attempt, max_attempts: int) -> None:
        self._routes, self._attempt, self._max_attempts = routes, attempt, max_attempts

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        request = admit(self._routes, envelope)
        if isinstance(request, CommandResult):
            return request
        conflicts, fresh = 0, False
        while True:
            step = self._attempt(request, fresh)
            if isinstance(step, CommandResult):
                return step
            if isinstance(step, Refused):
                return refused(envelope, step, request.stream)
            if isinstance(step, Conflict):
                conflicts += 1
                if conflicts >= self._max_attempts:
                    return refused(envelope, gave_up(request, conflicts), request.stream)
            fresh = True


class LoadAndDecide:
    """One attempt: load by the route's expected state -> decide -> append."""

    def __init__(self, loader: Loader, decide: Decide) -> None:
        self._loader, self._decide = loader, decide

    def __call__(self, request: Request, fresh: bool) -> Step:
        load = self._loader.load(request, fresh)
        if isinstance(load, Refused):
            return load
        decided = self._decide(request, load)
        if isinstance(decided, Decision):
            return self._loader.commit(decided)
        return decided


def admit(routes: Mapping[str, Route], envelope: CommandEnvelope) -> Request | CommandResult:
    """The stateless layers: the request, or the refusal (naming the stream once the payload
    is valid: the audit record names it)."""
    stream = None
    try:
        route = layers.route_for(routes, envelope)
        body = layers.validate_payload(route, envelope)
        stream = layers.stream_of(route, body, envelope.tenant_id)
        actor = layers.identify(envelope)
        layers.authorize(route, actor)
        layers.check_payload_tenant(envelope)
    except Refused as refusal:
        return refused(envelope, refusal, stream)
    return Request(envelope, route, body, actor, stream)


def gave_up(request: Request, attempts: int) -> Refused:
    reason = ReasonCode.CONCURRENT_WRITE
    detail = f"{request.stream} kept changing; gave up after {attempts} attempts"
    return Refused(CommandOutcome.CONFLICT, reason, detail)


class Unread:
    """A refusal decided on cached state nobody read: decide again on read state (a refusal
    cannot be checked at commit, as an append is)."""

    __slots__ = ()


UNREAD: Final = Unread()


@dataclass(frozen=True, slots=True)
class Conflict:
    """Another writer moved `stream` between the load and the append."""

    stream: str


Step = CommandResult | Refused | Unread | Conflict
"""What an attempt answers."""

Attempt = Callable[["Request", bool], Step]
"""One attempt at a request; `fresh`: read everything (an earlier attempt did not stand)."""


class Loader(Protocol):
    """Loads what a request decides on and appends what it decided (see `loader`)."""

    def load(self, request: Request, fresh: bool) -> Load | Refused: ...

    def commit(self, decision: Decision) -> CommandResult | Unread | Conflict: ...


Decide = Callable[["Request", "Load"], "Decision | CommandResult | Refused | Unread"]
"""The stateful layers and the aggregate's decision (see `deciding`)."""


@dataclass(frozen=True)
class Load:
    """What one attempt decides on; `read` False: all from the cache, unverified until the
    append's checks pass. `fresh`: the attempt reads everything it asks for."""

    stored: Loaded[Any]
    policy: Loaded[PolicyState]
    case: Loaded[CaseState] | None
    read: bool
    fresh: bool

    def checks(self, stream: str) -> dict[str, int]:
        """The other streams the decision read, at the revisions read."""
        others: list[Loaded[Any]] = [self.policy, *([self.case] if self.case else [])]
        return {o.stream: o.revision for o in others if o.stream != stream}


@dataclass(frozen=True)
class Decision:
    """A decision to append: its events, its metadata, and the writes its gates took (to
    append in the same commit; see `deciding.Gate`)."""

    request: Request
    load: Load
    meta: CommandMeta
    events: list[DomainEvent]
    taken: tuple[tuple[Gate, StreamWrite], ...]


class Gate(Protocol):
    """A stateful layer between idempotency and version that takes a write of its own, to
    commit atomically with the command's events (the run budget's unit)."""

    def take(self, request: Request, load: Load) -> StreamWrite | Refused | None: ...

    def written(self, write: StreamWrite) -> None:
        """`write` was committed with the events."""

    def write_alone(self, write: StreamWrite) -> None:
        """For a store without atomic checks: append `write` alone, before the events."""


@dataclass(frozen=True)
class Request:
    """A command that passed the stateless layers, with the stream it appends to. What it
    derives (its reservation stream, its digest) is computed once, on first use: a command
    asks for each several times on its path."""

    envelope: CommandEnvelope
    route: Route
    body: CommandBody
    actor: Actor
    stream: str
    """`route.stream(body, tenant)`, as the schema layer checked it."""

    @cached_property
    def reservation(self) -> str:
        return reservations.stream_of(self.envelope, self.actor.key)

    @cached_property
    def digest(self) -> str:
        """Over command type, version and the validated payload: what a key is bound to."""
        env = self.envelope
        return digest_of([env.command_type, env.command_version, self.body.model_dump(mode="json")])
