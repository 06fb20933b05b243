"""The one loader: what a command decides on, and the append of what it decided.

The load takes the aggregate, the tenant's policy and the related case (if any) from the cache
when it holds them all and the store checks appends: the append then checks atomically that
all three are still at the revisions decided on, and a refusal is decided again on read state
(`UNREAD`). Otherwise it reads them in one `read_streams` call (one read round trip), from
their snapshots where they have one (see `cache`). The append writes at the loaded revision,
each event with its provenance and the hash chain's link on from the loaded aggregate's, in
one commit with the idempotency key's reservation and the gates' writes; a store without
checks (KurrentDB before 26.1) is found out once and then read before every command.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from caseledger.domain.application import chains, layers, reservations
from caseledger.domain.application.aggregates import CASE, POLICY, Aggregate
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.codec import (
    Provenance,
    StoredEvent,
    envelope_for,
    new_event,
    read_recorded,
    recorded_as,
)
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loading import IdempotencyRecord, empty, fold
from caseledger.domain.application.outcomes import outcome_of
from caseledger.domain.application.pipeline import (
    UNREAD,
    Conflict,
    Decision,
    Load,
    Request,
    Unread,
)
from caseledger.domain.application.ports import (
    AppendResult,
    ChecksUnsupported,
    EventStore,
    NewEvent,
    StreamWrite,
    WrongExpectedVersion,
)
from caseledger.domain.application.results import committed
from caseledger.domain.application.routes import StreamRule
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.errors import EventDecodingError
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.ids import IdGenerator
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.policy_rules import DEFAULT_RULES, PolicyRules
from caseledger.domain.shared.reasons import ReasonCode

log = logging.getLogger(__name__)


class AggregateLoader:
    def __init__(
        self,
        store: EventStore,
        aggregates: AggregateCache,
        registry: EventRegistry,
        ids: IdGenerator,
        keys: reservations.KeyReservations,
    ) -> None:
        self._store, self._aggregates, self._registry = store, aggregates, registry
        self._ids, self._keys = ids, keys
        self._checks = True
        """The store checks appends atomically (until it says it cannot)."""

    def load(self, request: Request, fresh: bool) -> Load | Refused:
        """The aggregate, the tenant's policy in force now (the §5 default until one is
        published) and the case the decision reads (if any). Where the store checks appends
        and all are cached, nothing is read (`fresh` False). Otherwise in one read round trip,
        each as of its own read (staleness accepted, the case's revision recorded). The related
        case is named by the command or by the aggregate: a cached aggregate names it up front,
        else it is read once the aggregate is. A stream this code cannot read refuses."""
        if not fresh and self._checks:
            unread = self._unread(request)
            if unread is not None:
                return unread
        tenant, stream, aggregate = (
            request.envelope.tenant_id,
            request.stream,
            request.route.aggregate,
        )
        policy_stream = POLICY.stream(tenant, tenant)
        wanted: list[tuple[Aggregate[Any], str]] = [(aggregate, stream)]
        if policy_stream != stream:
            wanted.append((POLICY, policy_stream))
        cached = self._aggregates.cached(aggregate, stream)
        guess = _related_case_id(request, cached.state if cached else aggregate.initial_state())
        if guess is not None:
            wanted.append((CASE, CASE.stream(tenant, guess)))
        try:
            stored, *others = self._aggregates.load_many(wanted)
            policy = others.pop(0) if policy_stream != stream else stored
            case_id = _related_case_id(request, layers.as_seen_by(stored, tenant).state)
            case = None
            if case_id is not None:
                case = (
                    others[0]
                    if case_id == guess
                    else self._aggregates.load(CASE, CASE.stream(tenant, case_id))
                )
        except EventDecodingError as error:
            return Refused(CommandOutcome.REJECTED, error.reason, str(error))
        return Load(stored, policy, case, read=True, fresh=fresh)

    def _unread(self, request: Request) -> Load | None:
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
        case_id = _related_case_id(request, layers.as_seen_by(stored, tenant).state)
        case = None
        if case_id is not None:
            case = self._aggregates.cached(CASE, CASE.stream(tenant, case_id))
            if case is None:
                return None
        return Load(stored, policy, case, read=False, fresh=False)

    def policy_rules(self, tenant_id: str, fresh: bool = False) -> PolicyRules:
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

    def with_events(self, record: IdempotencyRecord, stream: str) -> IdempotencyRecord | Refused:
        """`record` with all its events: a record restored from a snapshot reads them back."""
        count = record.last_revision - record.first_revision + 1
        if record.events and (record.first_revision < 0 or len(record.events) == count):
            return record
        recorded = self._store.read_stream(stream, record.first_revision, count)
        if len(recorded) != count:
            return Refused(
                CommandOutcome.REJECTED,
                ReasonCode.NOT_FOUND,
                f"{stream} no longer holds the events of command {record.command_id}",
            )
        try:
            events = tuple(read_recorded(r, self._registry) for r in recorded)
        except EventDecodingError as error:
            return Refused(CommandOutcome.REJECTED, error.reason, str(error))
        return replace(record, events=events)

    def commit(self, decision: Decision) -> CommandResult | Unread | Conflict:
        """Append at the loaded revision, with provenance and the hash chain's link (on from the
        loaded aggregate's) in every event's metadata; where the store can, atomically with
        checks that the policy and case read are unchanged. The aggregate as written is kept
        in the cache."""
        request, meta, events, load = (
            decision.request,
            decision.meta,
            decision.events,
            decision.load,
        )
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
        payloads = [event.payload() for event in events]
        seen = layers.as_seen_by(load.stored, request.envelope.tenant_id)
        previous = seen.chain_link or chains.GENESIS
        new, links = chains.sealed(
            [new_event(e, i, m, p) for (e, i, m), p in zip(batch, payloads, strict=True)],
            previous,
        )
        for m, link in zip(metas, links, strict=True):
            m[chains.LINK] = link
        key = reservations.reservation_of(
            request.envelope,
            request.actor.key,
            digest=request.digest,
            outcome=outcome,
            stream=request.stream,
            after=seen.revision,
            count=len(new),
            at=meta.issued_at,
        )
        try:
            written = self._write(request.stream, new, seen.revision, load, key, decision)
        except WrongExpectedVersion as moved:
            return Conflict(moved.stream)
        if written is None:
            return UNREAD
        stream, first = request.stream, written.revision - len(events) + 1
        envelopes = [
            envelope_for(e, i, m, stream, first + n, payload=p)
            for n, ((e, i, m), p) in enumerate(zip(batch, payloads, strict=True))
        ]
        self._aggregates.keep(
            fold(
                load.stored,
                [
                    StoredEvent(recorded_as(n, stream, first + i, written.commit_position), e, m)
                    for i, (n, (e, _, m)) in enumerate(zip(new, batch, strict=True))
                ],
            )
        )
        return committed(
            request.envelope,
            outcome,
            envelopes,
            written.revision,
            written.commit_position,
            approval_request_id,
        )

    def _write(
        self,
        stream: str,
        events: list[NewEvent],
        revision: int,
        load: Load,
        key: StreamWrite,
        decision: Decision,
    ) -> AppendResult | None:
        """One commit: the events with their key's reservation and the gates' writes, with
        checks where the store has them (None: it has not; decide again on read state).
        Without them the reads of this attempt are what the decision stands on, the gates'
        writes are appended alone first, and the key is checked before and reserved after."""
        if self._checks:
            try:
                also = [key, *(write for _, write in decision.taken)]
                written = self._store.append_checked(
                    stream, events, revision, load.checks(stream), also
                )
            except ChecksUnsupported:
                log.warning("the event store has no atomic checks: reading before every command")
                self._checks = False
                return None
            for gate, write in decision.taken:
                gate.written(write)
            return written
        self._keys.check_free(key)
        for gate, write in decision.taken:
            gate.write_alone(write)
        written = self._store.append(stream, events, revision)
        self._keys.claim_after(key)
        return written


def _related_case_id(request: Request, state: Any) -> str | None:
    related = request.route.related_case
    return related(request.body, state) if related else None
