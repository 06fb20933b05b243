"""The outbox relay: a checkpointed subscription to `$all` that publishes the integration form of
every committed event with a contract, in commit order, at least once.

Per event: stage the message (its row) -> count the attempt -> publish with the event id as
`Nats-Msg-Id` -> on the broker's ack, mark it published and move the checkpoint, in one
transaction. A crash anywhere before that commit publishes the event again on restart; the
broker's duplicate window and the consumers' inboxes absorb the repeat.

The fault rules are the engine's: the feed's failure resubscribes; until a message is
acknowledged or parked the relay is stalled on it (`CheckpointedSubscription.wait_out`, the
pauses of `RelaySettings.policy`, `stop()` ends the wait): an unreachable broker is tried again
for as long as it takes, never skipped; a broker that refuses a message gets it parked (kept,
visible, retryable) once the policy is exhausted (`RetryPolicy.exhausted`: `max_attempts`
attempts, counted in the outbox across restarts) and the relay moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

from caseledger.adapters.integration.contracts import (
    CONTRACTS,
    integration_event,
    subject_for,
)
from caseledger.adapters.integration.jetstream import (
    DEFAULT_PREFIX,
    BrokerRejected,
    BrokerUnavailable,
    PublishAck,
)
from caseledger.adapters.integration.outbox_store import (
    MessageStatus,
    OutboxMessage,
    SqliteOutbox,
    Staged,
)
from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.ports import EventStore, RecordedEvent
from caseledger.domain.application.registry import event_registry
from caseledger.domain.shared.events import EventRegistry
from caseledger.projections.retry import RetryPolicy
from caseledger.projections.stall import Stopped
from caseledger.projections.subscription import (
    CheckpointedSubscription,
    Handler,
    SubscriptionOptions,
)

log = logging.getLogger(__name__)

RELAY_NAME: Final = "integration-events"
SKIPPED_FLUSH: Final = 200


class Broker(Protocol):
    def publish(
        self, subject: str, body: bytes, message_id: str, headers: dict[str, str] | None = None
    ) -> PublishAck: ...


@dataclass(frozen=True)
class _Publish:
    """A message with a body, to publish; `checkpoint` None for a retry behind the relay."""

    message_id: str
    subject: str
    body: bytes
    checkpoint: int | None


class RelayStopped(Stopped):
    """The relay was asked to stop while a message was still unacknowledged."""


Hook = Callable[[str, str], None]
"""(step, message id): tests inject crashes at `staged`, `attempting`, `acknowledged`."""


def _no_hook(step: str, message_id: str) -> None:
    return None


@dataclass(frozen=True)
class RelaySettings:
    prefix: str = DEFAULT_PREFIX
    max_attempts: int = 5
    """Refusals by the broker before a message is parked."""
    backoff: float = 0.2
    max_backoff: float = 10.0

    @property
    def policy(self) -> RetryPolicy:
        """Park after `max_attempts` refusals; between tries, `backoff` doubling up to
        `max_backoff` (a broker that does not answer is tried for as long as it takes)."""
        return RetryPolicy(self.max_attempts, self.backoff, 2.0, self.max_backoff)


class OutboxRelay(Handler):
    def __init__(
        self,
        events: EventStore,
        outbox: SqliteOutbox,
        broker: Broker,
        settings: RelaySettings | None = None,
        name: str = RELAY_NAME,
        registry: EventRegistry | None = None,
        hook: Hook = _no_hook,
    ) -> None:
        self._events, self._outbox, self._broker = events, outbox, broker
        self._settings = settings or RelaySettings()
        self.name = name
        self._registry = registry or event_registry()
        self._hook = hook
        self._skipped: int | None = None
        self._skipped_count = 0
        self._seen = 0
        self._engine = CheckpointedSubscription(
            events.subscribe_all,
            events.head_position,
            self,
            SubscriptionOptions(
                retry=RetryPolicy(1, self._settings.backoff, 1.0, self._settings.backoff),
                resubscribe_when_ended=True,
                stall=self._settings.policy,
            ),
            name=f"relay-{name}",
            sleep=self._pause,
            on_failure=self._failed,
        )

    # -- running: one event at a time, on the subscription engine --------------------------

    def pump(self) -> int:
        """Publish everything committed up to the store's head now, then return the number of
        events looked at (tests, `caseledger outbox publish`)."""
        self.retry_requested()
        head = self._events.head_position()
        checkpoint = self._outbox.checkpoint(self.name)
        if head == 0 or (checkpoint is not None and checkpoint >= head):
            return 0
        self._seen = 0
        failure = self._engine.follow(until=head, start=checkpoint)
        if failure is not None:
            raise failure
        self._flush_skipped()
        return self._seen

    def start(self) -> OutboxRelay:
        """Run in a background thread until `stop()`."""
        self._engine.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._engine.stop(timeout)

    def _pause(self, delay: float) -> None:
        self._engine.stopping.wait(delay)

    def _failed(self, error: BaseException) -> None:
        log.error("outbox relay %s failed; resubscribing", self.name, exc_info=error)

    # -- the engine's handler ------------------------------------------------------------

    def resume_from(self) -> int | None:
        """Retry what an operator asked for, then resume after the relay's checkpoint."""
        self.retry_requested()
        return self._outbox.checkpoint(self.name)

    def process(self, events: Sequence[RecordedEvent], checkpoint: int | None) -> None:
        for recorded in events:
            self._handle(recorded)
            self._seen += 1

    # -- one event -----------------------------------------------------------------------

    def _handle(self, recorded: RecordedEvent) -> None:
        contract = CONTRACTS.get(recorded.type)
        if contract is None:
            self._skip(recorded.commit_position)
            return
        self._skipped = None  # the next checkpoint written covers them
        staged = self._staged(recorded)
        message = self._outbox.stage(self.name, staged)
        self._hook("staged", message.message_id)
        if message.status in (MessageStatus.PUBLISHED, MessageStatus.PARKED):
            self._outbox.advance(self.name, recorded.commit_position)  # done before a crash
            return
        self._deliver(message, recorded.commit_position)

    def _skip(self, position: int) -> None:
        """Events without a contract move the checkpoint too, written every so often."""
        self._skipped = position
        self._skipped_count += 1
        if self._skipped_count >= SKIPPED_FLUSH:
            self._flush_skipped()

    def _flush_skipped(self) -> None:
        if self._skipped is not None:
            self._outbox.advance(self.name, self._skipped)
        self._skipped, self._skipped_count = None, 0

    def _staged(self, recorded: RecordedEvent) -> Staged:
        """The message for `recorded`; one that cannot be built is staged without a body (and
        then parked with the reason)."""
        contract = CONTRACTS[recorded.type]
        body: bytes | None = None
        try:
            body = integration_event(read_recorded(recorded, self._registry)).body()
        except Exception as error:
            log.warning("cannot build %s from %s: %r", contract.name, recorded.id, error)
        return Staged(
            message_id=str(recorded.id),
            position=recorded.commit_position,
            stream=recorded.stream,
            revision=recorded.revision,
            internal_type=recorded.type,
            contract=contract.name,
            subject=subject_for(self._settings.prefix, contract.name),
            body=body,
        )

    def _deliver(self, message: OutboxMessage, checkpoint: int | None) -> None:
        """Publish until acknowledged or parked; `checkpoint` None for a retry behind it."""
        if message.body is None or message.subject is None:
            error = "the integration event could not be built from the stored event"
            self._outbox.park(self.name, message.message_id, error, checkpoint)
            return
        publish = _Publish(message.message_id, message.subject, message.body, checkpoint)
        try:
            while (failure := self._attempt(publish)) is not None:
                self._engine.wait_out(f"message {message.message_id}: {failure}")
        except Stopped:
            raise RelayStopped(message.message_id) from None
        finally:
            self._engine.resumed()

    def _attempt(self, publish: _Publish) -> str | None:
        """One try at publishing; None once the message is acknowledged or parked, else why
        it is not yet."""
        message_id = publish.message_id
        attempt = self._outbox.record_attempt(message_id)
        self._hook("attempting", message_id)
        try:
            ack = self._broker.publish(publish.subject, publish.body, message_id)
        except BrokerRejected as error:
            failure = f"rejected: {error}"
            self._outbox.record_failure(message_id, failure)
            if self._settings.policy.exhausted(attempt):
                self._outbox.park(self.name, message_id, str(error), publish.checkpoint)
                return None
            return failure
        except BrokerUnavailable as error:
            failure = f"unavailable: {error}"
            self._outbox.record_failure(message_id, failure)
            return failure
        self._hook("acknowledged", message_id)
        self._outbox.mark_published(
            self.name, message_id, ack.stream, ack.seq, ack.duplicate, publish.checkpoint
        )
        return None

    def retry_requested(self) -> int:
        """Publish the parked messages an operator asked to retry; returns how many."""
        retried = self._outbox.messages(MessageStatus.RETRY_REQUESTED, limit=1000)
        for message in retried:
            if message.body is None:
                message = self._rebuilt(message)
            self._deliver(message, None)
        return len(retried)

    def _rebuilt(self, message: OutboxMessage) -> OutboxMessage:
        """Build a message that failed to build again from its stored event (after a fix)."""
        recorded = self._events.read_stream(message.stream, message.revision, 1)
        if not recorded:
            return message
        staged = self._staged(recorded[0])
        return replace(message, body=staged.body, subject=staged.subject)
