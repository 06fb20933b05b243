"""The application service: `handle(CommandEnvelope) -> CommandResult`.

Layers, in an order that makes retries safe: an agent's rate (every command it sends) ->
schema -> identity/authorization -> tenant -> load -> tenant (another tenant's aggregate looks
absent) -> idempotency -> run budget -> version -> stream rule -> policy gate -> decide
(lifecycle -> policy -> evidence) -> append at the loaded revision.
Each command appends its events to exactly one stream, in one commit with its idempotency key's
reservation (`reservations`: one key, one command, per tenant and actor, across streams). A
concurrent writer yields CONFLICT, never a lost update; without an expected version from the
caller the service reloads and re-decides.

The load takes the aggregate, the tenant's policy and the related case (if any) from the cache
when it holds them all and the store checks appends: the append then checks atomically that
all three are still at the revisions decided on, and a refusal is decided again on read state.
Otherwise it reads them in one `read_streams` call (one read round trip). With
`snapshot_every` > 0 (default 25), once a stream is that many events past its last snapshot
the service writes one after the command's append, through `background` (best-effort: a
failed snapshot write is logged and never fails the command; see `snapshots`): on the
command's own thread by default, off the command's path when the composition root gives it a
worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Final

from caseledger.domain.application import chains, layers, reservations
from caseledger.domain.application.aggregates import CASE, POLICY, Aggregate
from caseledger.domain.application.budget import AgentRateLimit, RunBudgets
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.codec import (
    Provenance,
    StoredEvent,
    envelope_for,
    new_event,
    read_recorded,
    recorded_as,
)
from caseledger.domain.application.commandlog import (
    QUERY_PREFIX,
    Refusal,
    record,
    record_not_accepted,
)
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loading import IdempotencyRecord, Loaded, empty, fold
from caseledger.domain.application.outcomes import outcome_of
from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    AppendResult,
    Background,
    ChecksUnsupported,
    EventStore,
    NewEvent,
    RunNow,
    StreamWrite,
    WrongExpectedVersion,
)
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.results import committed, duplicate, refused
from caseledger.domain.application.routes import ROUTES, Route, StreamRule
from caseledger.domain.application.snapshots import (
    DEFAULT_EVERY,
    SnapshotPolicy,
    encode,
    snapshot_stream,
)
from caseledger.domain.case.state import CaseState
from caseledger.domain.policy.decider import PolicyState
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.clock import Clock, SystemClock
from caseledger.domain.shared.commands import Command, CommandBody, CommandMeta
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.errors import EventDecodingError, Rejected
from caseledger.domain.shared.events import DomainEvent, EventRegistry
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.ids import DerivedIds, IdGenerator, digest_of
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.policy_rules import DEFAULT_RULES, PolicyRules
from caseledger.domain.shared.reasons import ReasonCode

log = logging.getLogger(__name__)

SNAPSHOTS_KEPT: Final = 2
"""Snapshots a stream keeps readable: the latest, and one before it should the latest be
unusable."""


class CommandService:
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
        self._store = store
        self._clock = clock or SystemClock()
        self._ids = ids or DerivedIds()
        self._rate_limit = rate_limit or AgentRateLimit(self._clock)
        self._run_budgets = RunBudgets(store)
        self._routes = routes
        self._registry = registry or event_registry()
        self._max_attempts = max_attempts
        self._snapshots = SnapshotPolicy(snapshot_every)
        self._background = background or RunNow()
        self._aggregates = AggregateCache(store, self._registry, snapshots=self._snapshots)
        self._checks = True
        """The store checks appends atomically (until it says it cannot)."""
        self._reservations = reservations.KeyReservations(store, self._registry)

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        """Answer `envelope`; every answer but ACCEPTED/DUPLICATE_ACCEPTED is also recorded
        in the tenant's command log (`commandlog-<tenant>`)."""
        result = self._handle(envelope)
        record_not_accepted(self._store, envelope, result, self._clock.now())
        return result

    def record_refusal(self, refusal: Refusal) -> None:
        """Record a request an entry point refused before it became a command (its body named
        another tenant or actor, or could not be read) in the command log of `refusal`'s
        tenant, which must be the caller's authenticated one. An agent's refused command still
        counts against its rate."""
        if refusal.actor_type == ActorType.AGENT.value and not refusal.command_type.startswith(
            QUERY_PREFIX
        ):
            per_minute = self._policy_rules(refusal.tenant_id).agent_commands_per_minute
            self._rate_limit.admit(refusal.tenant_id, refusal.actor_id, per_minute)
        record(self._store, refusal, self._clock.now())

    def _handle(self, envelope: CommandEnvelope) -> CommandResult:
        stream = None  # known once the payload is valid: the audit record names it
        throttled = self._throttle(envelope)
        if throttled is not None:
            return refused(envelope, throttled, stream)
        try:
            route = layers.route_for(self._routes, envelope)
            body = layers.validate_payload(route, envelope)
            stream = layers.stream_of(route, body, envelope.tenant_id)
            actor = layers.identify(envelope)
            layers.authorize(route, actor)
            layers.check_payload_tenant(envelope)
        except Refused as refusal:
            return refused(envelope, refusal, stream)
        request = _Request(envelope, route, body, actor, stream)
        conflicts, fresh = 0, False
        while True:
            try:
                return self._attempt(request, fresh)
            except Refused as refusal:
                return self._reserved(request) or refused(envelope, refusal, request.stream)
            except _Unread:
                fresh = True  # not an attempt: the refusal is decided again on read state
            except WrongExpectedVersion as moved:
                if moved.stream == request.reservation:
                    taken = self._reserved(request)
                    if taken is not None:
                        return taken
                conflicts, fresh = conflicts + 1, True
                if conflicts >= self._max_attempts:
                    break
        conflict = Refused(
            CommandOutcome.CONFLICT,
            ReasonCode.CONCURRENT_WRITE,
            f"{request.stream} kept changing; gave up after {self._max_attempts} attempts",
        )
        return refused(envelope, conflict, request.stream)

    def _reserved(self, request: _Request) -> CommandResult | None:
        """The answer of a key another command reserved (duplicate or reused), else None."""
        try:
            return self._reservations.answer(request.envelope, request.actor.key, request.digest)
        except Refused as refusal:
            return refused(request.envelope, refusal, request.stream)

    def _attempt(self, request: _Request, fresh: bool) -> CommandResult:
        """Load -> tenant (another's aggregate looks absent) -> idempotency -> run budget ->
        version -> stream rule -> policy gate -> decide -> append; raises WrongExpectedVersion
        when another writer won, and `_Unread` for a refusal decided on state not read."""
        envelope, actor = request.envelope, request.actor
        load = self._load(request, fresh)
        stored = load.stored
        with _decided_on(load):
            loaded = layers.as_seen_by(stored, envelope.tenant_id)
            record = layers.check_idempotency(loaded, actor, envelope, request.digest)
            if record is not None:
                return duplicate(envelope, self._with_events(record, request.stream))
        unit = self._run_budget_unit(request, load, fresh)
        with _decided_on(load):
            layers.check_version(envelope.expected_aggregate_version, loaded.revision)
            layers.check_stream_rule(request.route, loaded, taken=stored.exists)
            layers.policy_gate(request.route, actor, load.policy.state.rules)
            meta = self._meta(request, load.policy.state, self._case_facts(request, load.case))
            try:
                events = request.route.aggregate.decide(Command(request.body, meta), loaded.state)
            except Rejected as rejection:
                raise Refused(CommandOutcome.REJECTED, rejection.reason, rejection.detail) from None
        result, written = self._append(request, meta, events, load, unit)
        self._aggregates.keep(fold(stored, written))
        self._snapshot(stored)
        return result

    def _throttle(self, envelope: CommandEnvelope) -> Refused | None:
        """Rate, before any other layer: every command an agent sends counts against its
        tenant's `agent_commands_per_minute` (policy as last loaded; see `budget`)."""
        if envelope.requested_by_actor_type is not ActorType.AGENT:
            return None
        agent_id = envelope.requested_by_actor_id
        per_minute = self._policy_rules(envelope.tenant_id).agent_commands_per_minute
        if self._rate_limit.admit(envelope.tenant_id, agent_id, per_minute):
            return None
        reason = ReasonCode.RATE_LIMITED
        return Refused(CommandOutcome.REJECTED, reason, f"agent {agent_id}: over {per_minute}/min")

    def _run_budget_unit(self, request: _Request, load: _Load, fresh: bool) -> StreamWrite | None:
        """Run budget: an agent's command takes one of its run's `run_command_budget` units,
        written with its events (see `budget`). A limit from a cached policy nobody read is
        read before it refuses."""
        actor, envelope = request.actor, request.envelope
        if not actor.is_agent:
            return None
        limit = load.policy.state.rules.run_command_budget
        unit = self._run_budgets.unit(actor, limit, envelope, fresh)
        if unit is None and not load.read:
            limit = self._policy_rules(envelope.tenant_id, fresh=True).run_command_budget
            unit = self._run_budgets.unit(actor, limit, envelope)
        if unit is not None:
            return unit
        reason = ReasonCode.RUN_BUDGET_EXHAUSTED
        raise Refused(CommandOutcome.REJECTED, reason, f"run {actor.run_id}: spent {limit}")

    def _policy_rules(self, tenant_id: str, fresh: bool = False) -> PolicyRules:
        """The tenant's rules as cached (unless `fresh`), else read; the default where its
        policy cannot be read (the load refuses the command then)."""
        stream = POLICY.stream(tenant_id, tenant_id)
        cached = None if fresh else self._aggregates.cached(POLICY, stream)
        if cached is not None:
            return cached.state.rules
        try:
            return self._aggregates.load(POLICY, stream).state.rules
        except EventDecodingError:
            return DEFAULT_RULES

    def _meta(self, request: _Request, policy: PolicyState, case: CaseFacts | None) -> CommandMeta:
        envelope = request.envelope
        return CommandMeta(
            command_id=envelope.command_id,
            tenant_id=envelope.tenant_id,
            actor=request.actor,
            issued_at=self._clock.now(),
            policy_version=policy.version,
            policy=policy.rules,
            id_seed=self._ids.command_seed(
                envelope.tenant_id, request.actor.key, envelope.idempotency_key, request.stream
            ),
            case=case,
        )

    def _append(
        self,
        request: _Request,
        meta: CommandMeta,
        events: list[DomainEvent],
        load: _Load,
        unit: StreamWrite | None,
    ) -> tuple[CommandResult, list[StoredEvent]]:
        """Append at the loaded revision, with provenance and the hash chain's link (on from the
        loaded aggregate's) in every event's metadata; where the store can, atomically with
        checks that the policy and case read are unchanged."""
        outcome, approval_request_id = outcome_of(events)
        provenance = Provenance(
            envelope=request.envelope,
            aggregate_type=request.route.aggregate.name,
            aggregate_id=request.route.aggregate.id_of(request.stream),
            command_digest=request.digest,
            outcome=outcome.value,
            policy_version=meta.policy_version,
            occurred_at=meta.issued_at,
            facts_read=(
                {CASE.stream(meta.case.tenant_id, meta.case.case_id): meta.case.revision}
                if meta.case
                else {}
            ),
        )
        metas = [provenance.metadata(event) for event in events]
        ids = [self._ids.event_id(meta.id_seed, n) for n in range(len(events))]
        batch = list(zip(events, ids, metas, strict=True))
        seen = layers.as_seen_by(load.stored, request.envelope.tenant_id)
        previous = seen.chain_link or chains.GENESIS
        new, links = chains.sealed([new_event(e, i, m) for e, i, m in batch], previous)
        for m, link in zip(metas, links, strict=True):
            m[chains.LINK] = link
        revision = seen.revision
        key = reservations.reservation_of(
            request.envelope,
            request.actor.key,
            digest=request.digest,
            outcome=outcome,
            stream=request.stream,
            after=revision,
            count=len(new),
            at=meta.issued_at,
        )
        checks = load.checks(request.stream)
        written = self._write(request.stream, new, revision, checks, key, unit)
        first = written.revision - len(events) + 1
        envelopes = [
            envelope_for(e, i, m, request.stream, first + n) for n, (e, i, m) in enumerate(batch)
        ]
        result = committed(
            request.envelope,
            outcome,
            envelopes,
            written.revision,
            written.commit_position,
            approval_request_id,
        )
        return result, [
            StoredEvent(recorded_as(n, request.stream, first + i, written.commit_position), e, m)
            for i, (n, (e, _, m)) in enumerate(zip(new, batch, strict=True))
        ]

    def _write(
        self,
        stream: str,
        events: list[NewEvent],
        revision: int,
        checks: dict[str, int],
        key: StreamWrite,
        unit: StreamWrite | None,
    ) -> AppendResult:
        """One commit: the events with their key's reservation and the run budget's `unit` (if
        any), with checks where the store has them. Without them (KurrentDB before 26.1) the
        reads of this attempt are what the decision stands on, the unit is appended alone
        first, and the key is checked before and reserved after the append."""
        if self._checks:
            try:
                also = [key] if unit is None else [key, unit]
                written = self._store.append_checked(stream, events, revision, checks, also)
                if unit is not None:
                    self._run_budgets.spent(unit)
                return written
            except ChecksUnsupported:
                log.warning("the event store has no atomic checks: reading before every command")
                self._checks = False
                raise _Unread from None
        self._reservations.check_free(key)
        if unit is not None:
            self._run_budgets.spend(unit)
        written = self._store.append(stream, events, revision)
        self._reservations.claim_after(key)
        return written

    def _load(self, request: _Request, fresh: bool) -> _Load:
        """The aggregate, the tenant's policy in force now (the §5 default until one is
        published) and the case the decision reads (if any). Where the store checks appends
        and all are cached, nothing is read (`fresh` False): the append checks they are still
        current. Otherwise in one read round trip, each as of its own read (staleness
        accepted, the case's revision recorded). The related case is named by the command or
        by the aggregate: a cached aggregate names it up front, else it is read once the
        aggregate is. A stream this code cannot read refuses the command."""
        if not fresh and self._checks:
            unread = self._unread(request)
            if unread is not None:
                return unread
        tenant, stream = request.envelope.tenant_id, request.stream
        policy_stream = POLICY.stream(tenant, tenant)
        wanted: list[tuple[Aggregate[Any], str]] = [(request.route.aggregate, stream)]
        if policy_stream != stream:
            wanted.append((POLICY, policy_stream))
        cached = self._aggregates.cached(request.route.aggregate, stream)
        state = cached.state if cached else request.route.aggregate.initial_state()
        guess = self._related_case_id(request, state)
        if guess is not None:
            wanted.append((CASE, CASE.stream(tenant, guess)))
        try:
            stored, *others = self._aggregates.load_many(wanted)
            policy = others.pop(0) if policy_stream != stream else stored
            seen = layers.as_seen_by(stored, tenant)
            case_id = self._related_case_id(request, seen.state)
            case = None
            if case_id is not None:
                case = (
                    others[0]
                    if case_id == guess
                    else self._aggregates.load(CASE, CASE.stream(tenant, case_id))
                )
        except EventDecodingError as error:
            raise Refused(CommandOutcome.REJECTED, error.reason, str(error)) from error
        return _Load(stored, policy, case, read=True)

    def _unread(self, request: _Request) -> _Load | None:
        """The load from the cache alone, if it holds everything the decision reads. A stream
        a creating command starts needs no entry: it is new, or the append says otherwise."""
        route, stream = request.route, request.stream
        stored = self._aggregates.cached(route.aggregate, stream)
        if stored is None and route.stream_rule is StreamRule.NEW:
            stored = empty(route.aggregate, stream)
        tenant = request.envelope.tenant_id
        policy_stream = POLICY.stream(tenant, tenant)
        policy = (
            stored if policy_stream == stream else self._aggregates.cached(POLICY, policy_stream)
        )
        if stored is None or policy is None:
            return None
        case_id = self._related_case_id(
            request, layers.as_seen_by(stored, request.envelope.tenant_id).state
        )
        case = None
        if case_id is not None:
            case = self._aggregates.cached(CASE, CASE.stream(tenant, case_id))
            if case is None:
                return None
        return _Load(stored, policy, case, read=False)

    def _related_case_id(self, request: _Request, state: Any) -> str | None:
        related = request.route.related_case
        return related(request.body, state) if related else None

    def _case_facts(self, request: _Request, case: Loaded[CaseState] | None) -> CaseFacts | None:
        """Facts of the case a decision reads; another tenant's case is no facts at all, as an
        unknown one."""
        if case is None or not case.exists or case.state.tenant_id != request.envelope.tenant_id:
            return None
        return CaseFacts(
            case_id=CASE.id_of(case.stream),
            tenant_id=case.state.tenant_id,
            status=case.state.status.value,
            active=case.state.active,
            revision=case.revision,
        )

    def _with_events(self, record: IdempotencyRecord, stream: str) -> IdempotencyRecord:
        """`record` with all its events: a record restored from a snapshot reads them back."""
        count = record.last_revision - record.first_revision + 1
        if record.events and (record.first_revision < 0 or len(record.events) == count):
            return record
        recorded = self._store.read_stream(stream, record.first_revision, count)
        if len(recorded) != count:
            raise Refused(
                CommandOutcome.REJECTED,
                ReasonCode.NOT_FOUND,
                f"{stream} no longer holds the events of command {record.command_id}",
            )
        try:
            events = tuple(read_recorded(r, self._registry) for r in recorded)
        except EventDecodingError as error:
            raise Refused(CommandOutcome.REJECTED, error.reason, str(error)) from error
        return replace(record, events=events)

    def _snapshot(self, stored: Loaded[Any]) -> None:
        """After the command's append, when one is due: a snapshot of the aggregate as loaded
        (immutable, so it may be encoded on another thread), handed to `background` (run at
        once by default, on a thread of its own as `bootstrap` wires it). It is noted at once,
        so the commands that follow do not ask for it again while it waits or is written (one
        that fails is tried again `every` events later)."""
        if self._snapshots.due(stored):
            self._aggregates.noted_snapshot(stored.stream, stored.revision)
            self._background.submit(stored.stream, lambda: self._write_snapshot(stored))

    def _write_snapshot(self, stored: Loaded[Any]) -> None:
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


class _Unread(Exception):
    """A refusal decided on cached state nobody read: decide again on read state (a refusal
    cannot be checked at commit, as an append is)."""


@contextmanager
def _decided_on(load: _Load) -> Iterator[None]:
    """Refusals stand only where the state was read; otherwise `_Unread`."""
    try:
        yield
    except Refused:
        if load.read:
            raise
        raise _Unread from None


@dataclass(frozen=True)
class _Load:
    """What one attempt decides on; `read` False: all from the cache, unverified until the
    append's checks pass."""

    stored: Loaded[Any]
    policy: Loaded[PolicyState]
    case: Loaded[CaseState] | None
    read: bool

    def checks(self, stream: str) -> dict[str, int]:
        """The other streams the decision read, at the revisions read."""
        others: list[Loaded[Any]] = [self.policy, *([self.case] if self.case else [])]
        return {o.stream: o.revision for o in others if o.stream != stream}


@dataclass(frozen=True)
class _Request:
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
