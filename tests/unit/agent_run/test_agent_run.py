"""Agent runs (seed §11) through the service: the runtime reports a run under its own id."""

from __future__ import annotations

from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT
from tests.support.commands import issue
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service

RUNTIME = Actor(ActorType.SYSTEM, "agent-runtime", run_id="run-1")


def _start(service: CommandService) -> None:
    result = issue(
        service,
        "start_run",
        {
            "run_id": "run-1",
            "agent_name": "risk-bot",
            "requested_by": "user:alice",
            "user_request": "Assess the lender's risk",
            "case_id": "c1",
        },
        RUNTIME,
    )
    assert result.status is CommandOutcome.ACCEPTED, result.reason


def test_a_run_records_request_responses_and_tool_calls_in_its_stream() -> None:
    store = InMemoryEventStore()
    service = command_service(store)
    _start(service)
    response = {"run_id": "run-1", "response_id": "r1", "model": "m", "summary": "risk is high"}
    assert issue(service, "record_model_response", response, RUNTIME).status is (
        CommandOutcome.ACCEPTED
    )
    call = {
        "run_id": "run-1",
        "call_id": "t1",
        "tool_name": "propose_risk_update",
        "arguments": {"case_id": "c1"},
        "response_id": "r1",
        "command_id": "cmd-9",
    }
    assert issue(service, "record_tool_call", call, RUNTIME).status is CommandOutcome.ACCEPTED
    again = issue(service, "record_tool_call", call, RUNTIME)
    assert (again.status, again.reason_code) == (
        CommandOutcome.REJECTED,
        ReasonCode.DUPLICATE_ID,
    )
    types = [e.type for e in store.read_stream("run-t1_run-1")]
    assert types == ["run.started", "run.model_response_recorded", "run.tool_call_recorded"]


def test_a_run_is_reported_only_under_its_own_run_id() -> None:
    service = command_service(InMemoryEventStore())
    other = Actor(ActorType.SYSTEM, "agent-runtime", run_id="run-2")
    result = issue(
        service,
        "start_run",
        {"run_id": "run-1", "agent_name": "a", "requested_by": "u", "user_request": "x"},
        other,
    )
    assert (result.status, result.reason_code) == (
        CommandOutcome.REJECTED,
        ReasonCode.NOT_PERMITTED,
    )


def test_agents_cannot_write_their_own_run_record() -> None:
    service = command_service(InMemoryEventStore())
    result = issue(
        service,
        "start_run",
        {"run_id": "run-1", "agent_name": "a", "requested_by": "u", "user_request": "x"},
        AGENT,
    )
    assert result.status is CommandOutcome.REJECTED
