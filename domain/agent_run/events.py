"""Agent run events: runtime facts (seed §11), never domain facts."""

from __future__ import annotations

from typing import Final

from caseledger.domain.shared.events import DomainEvent


class AgentRunEvent(DomainEvent):
    run_id: str


class RunStarted(AgentRunEvent):
    event_type = "run.started"
    tenant_id: str
    agent_name: str
    requested_by: str
    user_request: str
    case_id: str | None
    reported_by: str


class ModelResponseRecorded(AgentRunEvent):
    event_type = "run.model_response_recorded"
    response_id: str
    model: str
    summary: str


class ToolCallRecorded(AgentRunEvent):
    event_type = "run.tool_call_recorded"
    call_id: str
    tool_name: str
    arguments_digest: str
    response_id: str | None
    command_id: str | None
    query_id: str | None
    outcome: str | None


AGENT_RUN_EVENTS: Final[tuple[type[DomainEvent], ...]] = (
    RunStarted,
    ModelResponseRecorded,
    ToolCallRecorded,
)
