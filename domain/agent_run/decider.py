"""The agent run decider. A run is reported under its own id (the envelope's run id names the
payload's run); response and call ids are unique within the run."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

from caseledger.domain.agent_run.commands import (
    AgentRunCommand,
    RecordModelResponse,
    RecordToolCall,
    StartRun,
)
from caseledger.domain.agent_run.events import ModelResponseRecorded, RunStarted, ToolCallRecorded
from caseledger.domain.shared.commands import Command, CommandMeta
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.ids import digest_of
from caseledger.domain.shared.persistent import PSet
from caseledger.domain.shared.reasons import ReasonCode


@dataclass(frozen=True)
class AgentRunState:
    run_id: str | None = None
    tenant_id: str | None = None
    case_id: str | None = None
    responses: PSet[str] = field(default_factory=PSet)
    calls: PSet[str] = field(default_factory=PSet)


def initial_state() -> AgentRunState:
    return AgentRunState()


def decide(command: Command[AgentRunCommand], state: AgentRunState) -> list[DomainEvent]:
    body, meta = command.body, command.meta
    _require_own_run(body.run_id, meta)
    match body:
        case StartRun():
            return [
                RunStarted(
                    run_id=body.run_id,
                    tenant_id=meta.tenant_id,
                    agent_name=body.agent_name,
                    requested_by=body.requested_by,
                    user_request=body.user_request,
                    case_id=body.case_id,
                    reported_by=meta.actor.key,
                )
            ]
        case RecordModelResponse():
            _require_new(body.response_id, state.responses, "model response")
            return [
                ModelResponseRecorded(
                    run_id=body.run_id,
                    response_id=body.response_id,
                    model=body.model,
                    summary=body.summary,
                )
            ]
        case RecordToolCall():
            _require_new(body.call_id, state.calls, "tool call")
            return [
                ToolCallRecorded(
                    run_id=body.run_id,
                    call_id=body.call_id,
                    tool_name=body.tool_name,
                    arguments_digest=digest_of(body.arguments),
                    response_id=body.response_id,
                    command_id=body.command_id,
                    query_id=body.query_id,
                    outcome=body.outcome,
                )
            ]


def evolve(state: AgentRunState, event: DomainEvent) -> AgentRunState:
    match event:
        case RunStarted():
            return replace(
                state, run_id=event.run_id, tenant_id=event.tenant_id, case_id=event.case_id
            )
        case ModelResponseRecorded():
            return replace(state, responses=state.responses.add(event.response_id))
        case ToolCallRecorded():
            return replace(state, calls=state.calls.add(event.call_id))
    return state


def _require_own_run(run_id: str, meta: CommandMeta) -> None:
    if meta.actor.run_id != run_id:
        raise Rejected(ReasonCode.NOT_PERMITTED, f"run {run_id!r} is reported under its own id")


def _require_new(item_id: str, known: Collection[str], what: str) -> None:
    if item_id in known:
        raise Rejected(ReasonCode.DUPLICATE_ID, f"{what} {item_id!r} already recorded")
