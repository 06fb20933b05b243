"""Agent run commands, issued by the agent runtime (a system actor) under the run's own id."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from caseledger.domain.shared.commands import CommandBody
from caseledger.domain.shared.ids import Identifier

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class StartRun(CommandBody):
    """A run begins with the user's request (§22: what did the user ask?)."""

    run_id: Identifier
    agent_name: ShortText
    requested_by: ShortText
    user_request: LongText
    case_id: Identifier | None = None


class RecordModelResponse(CommandBody):
    """What the model answered, as the runtime summarises it (§22: what did the agent infer?)."""

    run_id: Identifier
    response_id: Identifier
    model: ShortText
    summary: LongText


class RecordToolCall(CommandBody):
    """A tool the model called, and the command or query it became. Arguments are kept as a
    digest, not verbatim: they may quote evidence."""

    run_id: Identifier
    call_id: Identifier
    tool_name: ShortText
    arguments: dict[str, Any] = Field(default_factory=dict)
    response_id: Identifier | None = None
    command_id: ShortText | None = None
    query_id: ShortText | None = None
    outcome: ShortText | None = None


AgentRunCommand = StartRun | RecordModelResponse | RecordToolCall
