"""The stateful layers and the aggregate's decision, on what the loader loaded, in order:
tenant (another tenant's aggregate looks absent) -> idempotency -> the gates (the run budget)
-> version -> stream rule -> policy gate -> decide (lifecycle -> policy -> evidence).

Each answers with a value: the duplicate's result, a `Refused`, or the `Decision` to append. A
refusal stands only where the state was read; on cached state nobody read it is `UNREAD`
(decide again on read state). A gate decides for itself (the run budget reads the policy
before it refuses on a cached one)."""

from __future__ import annotations

from collections.abc import Sequence

from caseledger.domain.application import layers
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.budget import RunBudgets
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loader import AggregateLoader
from caseledger.domain.application.loading import Loaded
from caseledger.domain.application.pipeline import (
    UNREAD,
    Decision,
    Gate,
    Load,
    Request,
    Unread,
)
from caseledger.domain.application.ports import StreamWrite
from caseledger.domain.application.results import duplicate
from caseledger.domain.case.state import CaseState
from caseledger.domain.shared.clock import Clock
from caseledger.domain.shared.commands import Command, CommandMeta
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.ids import IdGenerator
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode


class Decider:
    def __init__(
        self, loader: AggregateLoader, clock: Clock, ids: IdGenerator, gates: Sequence[Gate] = ()
    ) -> None:
        self._loader, self._clock, self._ids, self._gates = loader, clock, ids, tuple(gates)

    def __call__(self, request: Request, load: Load) -> Decision | CommandResult | Refused | Unread:
        envelope, actor = request.envelope, request.actor
        loaded = layers.as_seen_by(load.stored, envelope.tenant_id)
        try:
            record = layers.check_idempotency(loaded, actor, envelope, request.digest)
        except Refused as refusal:
            return _stands(refusal, load)
        if record is not None:
            full = self._loader.with_events(record, request.stream)
            return _stands(full, load) if isinstance(full, Refused) else duplicate(envelope, full)
        taken: list[tuple[Gate, StreamWrite]] = []
        for gate in self._gates:
            write = gate.take(request, load)
            if isinstance(write, Refused):
                return write
            if write is not None:
                taken.append((gate, write))
        try:
            layers.check_version(envelope.expected_aggregate_version, loaded.revision)
            layers.check_stream_rule(request.route, loaded, taken=load.stored.exists)
            layers.policy_gate(request.route, actor, load.policy.state.rules)
            meta = self._meta(request, load)
            events = request.route.aggregate.decide(Command(request.body, meta), loaded.state)
        except Refused as refusal:
            return _stands(refusal, load)
        except Rejected as rejection:
            return _stands(
                Refused(CommandOutcome.REJECTED, rejection.reason, rejection.detail), load
            )
        return Decision(request, load, meta, events, tuple(taken))

    def _meta(self, request: Request, load: Load) -> CommandMeta:
        envelope, policy = request.envelope, load.policy.state
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
            case=_case_facts(request, load.case),
        )


class RunBudget:
    """Gate: an agent's command takes one of its run's `run_command_budget` units, written
    with its events (see `budget`). A limit from a cached policy nobody read is read before it
    refuses."""

    def __init__(self, budgets: RunBudgets, loader: AggregateLoader) -> None:
        self._budgets, self._loader = budgets, loader

    def take(self, request: Request, load: Load) -> StreamWrite | Refused | None:
        actor, envelope = request.actor, request.envelope
        if not actor.is_agent:
            return None
        limit = load.policy.state.rules.run_command_budget
        unit = self._budgets.unit(actor, limit, envelope, load.fresh)
        if unit is None and not load.read:
            limit = self._loader.policy_rules(envelope.tenant_id, fresh=True).run_command_budget
            unit = self._budgets.unit(actor, limit, envelope)
        if unit is not None:
            return unit
        reason = ReasonCode.RUN_BUDGET_EXHAUSTED
        return Refused(CommandOutcome.REJECTED, reason, f"run {actor.run_id}: spent {limit}")

    def written(self, write: StreamWrite) -> None:
        self._budgets.spent(write)

    def write_alone(self, write: StreamWrite) -> None:
        self._budgets.spend(write)


def _stands(refusal: Refused, load: Load) -> Refused | Unread:
    """Refusals stand only where the state was read; otherwise `UNREAD`."""
    return refusal if load.read else UNREAD


def _case_facts(request: Request, case: Loaded[CaseState] | None) -> CaseFacts | None:
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
