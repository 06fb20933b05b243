"""Idempotency-key reservations: one key, one command, per tenant and actor, across every stream.

Every command's append carries, in the same atomic commit (`EventStore.append_checked`'s
`also`: one multi-stream `AppendRecords`), one event `idempotency.key_reserved` to the key's
reservation stream `idempotency-<tenant>_<digest>` (`streams.reservation_stream`), expected not
to exist. So of any writers racing on one key, on one stream or many, in one process or many,
exactly one commits; the others' appends fail naming the reservation, and they are answered
from it. The reservation names the command (id, digest over type, version and payload,
outcome) and where its events are (stream, revisions): the same command again anywhere is
answered `duplicate_accepted` with those events, ids and commit position; anything else,
`idempotency_key_reused`.

A store without multi-stream appends (KurrentDB before 26.1) gets the reservation read before
the command's append and written right after it: a key is still refused across streams once
its reservation is written, but two writers racing on one key on two streams may both commit
(on one stream, its expected revision still lets only one).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loading import IdempotencyRecord
from caseledger.domain.application.ports import (
    NO_STREAM,
    EventStore,
    NewEvent,
    StreamWrite,
    WrongExpectedVersion,
)
from caseledger.domain.application.results import duplicate
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.errors import MAX_PIECE, EventDecodingError, clip
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.ids import random_id
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from caseledger.domain.shared.streams import reservation_stream

log = logging.getLogger(__name__)

KEY_RESERVED: Final = "idempotency.key_reserved"
"""The reservation's event type (schema version 1); never a fact any reader follows."""


class Reservation(BaseModel):
    """What the key was first used for: the command and where its events are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command_id: str
    command_type: str
    command_digest: str
    outcome: str
    stream: str
    first_revision: int
    last_revision: int


def stream_of(envelope: CommandEnvelope, actor_key: str) -> str:
    """The reservation stream of the envelope's key for `actor_key` in its tenant."""
    return reservation_stream(envelope.tenant_id, actor_key, envelope.idempotency_key)


def reservation_of(
    envelope: CommandEnvelope,
    actor_key: str,
    *,
    digest: str,
    outcome: CommandOutcome,
    stream: str,
    after: int,
    count: int,
    at: datetime,
) -> StreamWrite:
    """The reservation of the key of a command appending `count` events to `stream` after
    revision `after`: the other half of the command's commit (the service's one hook)."""
    reservation = Reservation(
        command_id=envelope.command_id,
        command_type=envelope.command_type,
        command_digest=digest,
        outcome=outcome.value,
        stream=stream,
        first_revision=after + 1,
        last_revision=after + count,
    )
    return reservation_append(envelope, actor_key, reservation, at)


def reservation_append(
    envelope: CommandEnvelope, actor_key: str, reservation: Reservation, at: datetime
) -> StreamWrite:
    """The reservation as the other half of the command's commit: a new stream, one event."""
    metadata = {
        "$correlationId": envelope.correlation_id,
        "$causationId": envelope.command_id,
        "tenantId": envelope.tenant_id,
        "actorKey": actor_key,
        "commandId": envelope.command_id,
        "schemaVersion": "1",
        "payloadSchema": f"{KEY_RESERVED}.v1",
        "occurredAt": at.isoformat(),
    }
    event = NewEvent(
        type=KEY_RESERVED,
        data=orjson.dumps(reservation.model_dump()),
        metadata=orjson.dumps(metadata),
        id=random_id(),
    )
    return StreamWrite(stream_of(envelope, actor_key), [event], NO_STREAM)


class KeyReservations:
    """Reads reservations and answers a command whose key is already taken."""

    def __init__(self, store: EventStore, registry: EventRegistry) -> None:
        self._store = store
        self._registry = registry

    def answer(
        self, envelope: CommandEnvelope, actor_key: str, digest: str
    ) -> CommandResult | None:
        """None if the key is free; else `duplicate_accepted` with the original command's
        events when `digest` is its digest, and `idempotency_key_reused` refused otherwise
        (raised as `Refused`)."""
        reservation = self.reserved(stream_of(envelope, actor_key))
        if reservation is None:
            return None
        if reservation.command_digest != digest:
            raise Refused(
                CommandOutcome.REJECTED,
                ReasonCode.IDEMPOTENCY_KEY_REUSED,
                f"key {clip(envelope.idempotency_key, MAX_PIECE)!r} was used for command "
                f"{clip(reservation.command_id, MAX_PIECE)}",
            )
        return duplicate(envelope, self._record(reservation))

    def reserved(self, stream: str) -> Reservation | None:
        recorded = self._store.read_stream(stream, 0, 1)
        if not recorded:
            return None
        try:
            return Reservation.model_validate_json(recorded[0].data)
        except ValidationError:
            raise Refused(
                CommandOutcome.REJECTED,
                ReasonCode.UNREADABLE_EVENT,
                f"{stream}@0: the key's reservation cannot be read",
            ) from None

    def claim_after(self, append: StreamWrite) -> None:
        """Without multi-stream appends: the reservation written after the command's own
        append. Another writer's, written first, wins; this command's events stand (logged)."""
        try:
            self._store.append(append.stream, append.events, append.expected)
        except WrongExpectedVersion:
            log.warning("%s was reserved by another command meanwhile", append.stream)

    def check_free(self, append: StreamWrite) -> None:
        """Without multi-stream appends: a key already reserved fails the command's append as
        a lost race would (the caller then answers from the reservation)."""
        if self._store.read_stream(append.stream, 0, 1):
            raise WrongExpectedVersion(append.stream, NO_STREAM, 0)

    def _record(self, reservation: Reservation) -> IdempotencyRecord:
        first, last = reservation.first_revision, reservation.last_revision
        recorded = self._store.read_stream(reservation.stream, first, last - first + 1)
        try:
            events = tuple(read_recorded(r, self._registry) for r in recorded)
        except EventDecodingError as error:
            raise Refused(CommandOutcome.REJECTED, error.reason, str(error)) from error
        if len(events) != last - first + 1 or any(
            e.metadata.get("commandId") != reservation.command_id for e in events
        ):
            raise Refused(
                CommandOutcome.REJECTED,
                ReasonCode.NOT_FOUND,
                f"{reservation.stream} no longer holds the events of command "
                f"{clip(reservation.command_id, MAX_PIECE)}",
            )
        return IdempotencyRecord.of(
            reservation.command_id,
            reservation.command_digest,
            reservation.outcome,
            events,
            first,
            last,
        )
