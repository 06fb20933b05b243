"""What operators see of the outbox, for the CLI and the HTTP API: the relay's checkpoint and
lag, messages by status, attempts and errors, parked messages; and `retry`."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from caseledger.adapters.integration.outbox_store import MessageStatus, OutboxMessage, SqliteOutbox
from caseledger.adapters.integration.relay import RELAY_NAME

RECENT: Final = 20


class MessageView(BaseModel):
    message_id: str
    contract: str | None
    subject: str | None
    stream: str
    revision: int
    position: int
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    published_at: str | None
    broker_seq: int | None
    duplicate: bool | None


class OutboxStatus(BaseModel):
    relay: str
    checkpoint: int | None
    head_position: int | None
    lag: int | None
    """Bytes of `$all` behind the head (positions are byte-offset-like), None if unknown."""
    counts: dict[str, int]
    parked: list[MessageView]
    recent: list[MessageView]


def view(message: OutboxMessage) -> MessageView:
    return MessageView(
        message_id=message.message_id,
        contract=message.contract,
        subject=message.subject,
        stream=message.stream,
        revision=message.revision,
        position=message.position,
        status=message.status.value,
        attempts=message.attempts,
        last_error=message.last_error,
        created_at=message.created_at,
        last_attempt_at=message.last_attempt_at,
        published_at=message.published_at,
        broker_seq=message.broker_seq,
        duplicate=message.duplicate,
    )


def outbox_status(
    outbox: SqliteOutbox, head_position: int | None = None, relay: str = RELAY_NAME
) -> OutboxStatus:
    checkpoint = outbox.checkpoint(relay)
    lag = None
    if head_position is not None:
        lag = max(0, head_position - (checkpoint or 0))
    return OutboxStatus(
        relay=relay,
        checkpoint=checkpoint,
        head_position=head_position,
        lag=lag,
        counts=outbox.counts(),
        parked=[view(m) for m in outbox.messages(MessageStatus.PARKED)],
        recent=[view(m) for m in outbox.messages(limit=RECENT)],
    )


def retry(outbox: SqliteOutbox, message_id: str | None = None) -> int:
    """Ask the relay to publish parked messages again: one, or all when `message_id` is None.
    Returns how many were parked and are now queued for the relay's next pass."""
    return outbox.request_retry(message_id)
