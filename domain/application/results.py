"""Command results as values: accepted, duplicate, refused."""

from __future__ import annotations

from caseledger.domain.application.codec import envelope_of
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loading import IdempotencyRecord
from caseledger.domain.application.outcomes import outcome_of
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult, EventEnvelope
from caseledger.domain.shared.errors import MAX_REASON, clip
from caseledger.domain.shared.outcomes import CommandOutcome


def refused(envelope: CommandEnvelope, refusal: Refused, stream: str | None) -> CommandResult:
    return CommandResult(
        command_id=envelope.command_id,
        status=refusal.outcome,
        reason=clip(refusal.detail, MAX_REASON),
        reason_code=refusal.reason,
        stream_id=stream,
    )


def duplicate(envelope: CommandEnvelope, record: IdempotencyRecord) -> CommandResult:
    """The original command's events and commit position, answered as DUPLICATE_ACCEPTED."""
    events = [envelope_of(stored) for stored in record.events]
    _, approval_request_id = outcome_of([stored.event for stored in record.events])
    last = record.events[-1].recorded
    return CommandResult(
        command_id=envelope.command_id,
        status=CommandOutcome.DUPLICATE_ACCEPTED,
        events=events,
        reason=f"already handled as command {record.command_id}",
        stream_id=last.stream,
        stream_revision=last.revision,
        commit_position=last.commit_position,
        approval_request_id=approval_request_id,
        original_outcome=CommandOutcome(record.outcome),
    )


def committed(
    envelope: CommandEnvelope,
    outcome: CommandOutcome,
    events: list[EventEnvelope],
    revision: int,
    commit_position: int,
    approval_request_id: str | None,
) -> CommandResult:
    stream = events[-1].stream_id if events else None
    return CommandResult(
        command_id=envelope.command_id,
        status=outcome,
        events=events,
        stream_id=stream,
        stream_revision=revision,
        commit_position=commit_position,
        approval_request_id=approval_request_id,
    )
