"""The notification worker: consumes `caseledger.notice.send_requested.v1`, delivers the approved
notice over SMTP, then commits `NoticeSent` through the command service (actor system, causation
= the request). Agents never send; this worker does, and only approved content (seed §25, §28).

The send path, and what a crash after each step leads to on redelivery:

1. `received`          nothing written: start over.
2. `attempt_recorded`  the attempt is durable before SMTP starts: resend, same Message-ID.
3. `delivered`         SMTP accepted it but the ledger does not know: resend, same Message-ID
                       (the recipient sees one distinct message).
4. `delivery_recorded` the ledger says delivered: do not resend; commit `NoticeSent`.
5. `sent_committed`    `NoticeSent` is in the store: the notice is `sent`; finish the inbox.
6. `processed`         the inbox holds the request: a redelivery is acknowledged and ignored.

`NoticeSent` is committed once: its command id and idempotency key derive from the send
request, and the notice's lifecycle refuses a second `sent`. The inbox covers redeliveries
beyond the broker's duplicate window.

A request for a notice the ledger does not know, or knows only before its send was requested,
may have overtaken it (a lagging replica): it is delivered again after `retry_delay`, up to
`unknown_notice_deliveries` times. A request that can never be served (malformed, naming another
tenant's notice, a rejected or withdrawn notice), or still waiting after those deliveries, is
terminated — logged as an error and kept with its reason in the ledger's `dropped_request`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from caseledger.adapters.envelopes import command_envelope
from caseledger.adapters.integration.contracts import (
    IntegrationEvent,
    NoticeSendRequestedV1,
)
from caseledger.adapters.integration.jetstream import Delivery as BrokerMessage
from caseledger.adapters.integration.jetstream import PullConsumer
from caseledger.adapters.notifications.ledger import DeliveryLedger, DeliveryStatus
from caseledger.adapters.notifications.smtp import Mailer, Notice, notice_message_id
from caseledger.adapters.tokens import Principal
from caseledger.domain.application.ports import CommandHandler, EventStore
from caseledger.domain.application.replay import replay
from caseledger.domain.notice_draft.state import NoticeDraftState, NoticeStatus
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.streams import InvalidId
from caseledger.projections.retry import RetryPolicy

log = logging.getLogger(__name__)

WORKER_ID: Final = "notification-worker"
STEPS: Final = (
    "received",
    "attempt_recorded",
    "delivered",
    "delivery_recorded",
    "sent_committed",
    "processed",
)


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_PROCESSED = "already_processed"
    RETRY_LATER = "retry_later"
    DROPPED = "dropped"


Hook = Callable[[str, str], None]
"""(step, request message id): tests raise here to simulate a crash after a step."""


def _no_hook(step: str, message_id: str) -> None:
    return None


@dataclass(frozen=True)
class WorkerSettings:
    sender: str = "notices@caseledger.invalid"
    message_id_domain: str = "caseledger"
    retry_delay: float = 5.0
    """Seconds before a request that failed (SMTP down, command refused) comes again."""
    unknown_notice_deliveries: int = 12
    """Deliveries a request waits for its notice to be known here, ready to send, before it
    is terminated: the ledger this worker reads may be behind the broker (a lagging replica),
    so at first an unknown notice is more likely late than wrong."""

    @property
    def policy(self) -> RetryPolicy:
        """The park-and-retry policy the relay and the runner follow (`RetryPolicy`): a
        request waiting for its notice comes again every `retry_delay` and is given up (parked
        in the ledger's `dropped_request`) after `unknown_notice_deliveries` deliveries."""
        delay = self.retry_delay
        return RetryPolicy(self.unknown_notice_deliveries, delay, 1.0, delay)


class NotificationWorker:
    def __init__(
        self,
        events: EventStore,
        commands: CommandHandler,
        consumer: PullConsumer,
        mailer: Mailer,
        ledger: DeliveryLedger,
        settings: WorkerSettings | None = None,
        hook: Hook = _no_hook,
    ) -> None:
        self._events, self._commands, self._consumer = events, commands, consumer
        self._mailer, self._ledger = mailer, ledger
        self._settings = settings or WorkerSettings()
        self._hook = hook
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, batch: int = 10, timeout: float = 1.0) -> list[Outcome]:
        return [self.handle(message) for message in self._consumer.fetch(batch, timeout)]

    def start(self) -> NotificationWorker:
        self._thread = threading.Thread(target=self._run, name=WORKER_ID, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("notification worker pass failed")
                self._stopping.wait(self._settings.retry_delay)

    def handle(self, message: BrokerMessage) -> Outcome:
        request_id = message.message_id
        self._hook("received", request_id)
        if self._ledger.inbox.seen(request_id):
            message.ack()
            return Outcome.ALREADY_PROCESSED
        try:
            event = IntegrationEvent.parse(message.data)
            request = NoticeSendRequestedV1.model_validate(event.data)
        except ValueError as error:
            return self._drop(message, None, None, f"malformed send request: {error}")
        try:
            notice = replay(self._events, "notice_draft", event.tenant_id, request.draft_id).state
        except InvalidId as error:
            return self._drop(message, None, None, f"malformed send request: {error}")
        refusal = _refusal(notice, request.draft_id, event.tenant_id)
        if refusal is not None:
            return self._drop(message, event.tenant_id, request.draft_id, refusal)
        if notice.status not in (NoticeStatus.SEND_REQUESTED, NoticeStatus.SENT):
            return self._wait_for_notice(message, event.tenant_id, request.draft_id, notice)
        message_id = notice_message_id(
            event.tenant_id, request.draft_id, request.digest, self._settings.message_id_domain
        )
        if notice.status is NoticeStatus.SEND_REQUESTED:
            if not self._deliver(event, request, notice, message_id):
                message.nak(self._settings.retry_delay)
                return Outcome.RETRY_LATER
            if not self._commit_sent(event, request, message_id):
                message.nak(self._settings.retry_delay)
                return Outcome.RETRY_LATER
        self._hook("sent_committed", request_id)
        self._ledger.mark_recorded(request_id, message_id)
        self._hook("processed", request_id)
        message.ack()
        return Outcome.SENT

    def _wait_for_notice(
        self, message: BrokerMessage, tenant_id: str, draft_id: str, notice: NoticeDraftState
    ) -> Outcome:
        """The notice is unknown here, or known only before its send was requested: the
        request may have overtaken the ledger, so it comes again — a bounded number of times."""
        known = "not known here" if notice.status is NoticeStatus.NEW else str(notice.status)
        deliveries, most = message.num_delivered, self._settings.unknown_notice_deliveries
        if self._settings.policy.exhausted(deliveries):
            reason = f"notice {draft_id} still {known} after {deliveries} deliveries"
            return self._drop(message, tenant_id, draft_id, reason)
        log.warning(
            "send request %s: notice %s is %s (delivery %d of %d); retrying in %.1fs",
            message.message_id, draft_id, known, deliveries, most, self._settings.retry_delay,
        )  # fmt: skip
        message.nak(self._settings.retry_delay)
        return Outcome.RETRY_LATER

    def _drop(
        self, message: BrokerMessage, tenant_id: str | None, draft_id: str | None, reason: str
    ) -> Outcome:
        """Give the request up for good: logged, kept in the ledger, then terminated."""
        log.error("dropping send request %s: %s", message.message_id, reason)
        self._ledger.record_dropped(
            message.message_id, tenant_id, draft_id, reason, message.num_delivered
        )
        message.term()
        return Outcome.DROPPED

    def _deliver(
        self,
        event: IntegrationEvent,
        request: NoticeSendRequestedV1,
        notice: NoticeDraftState,
        message_id: str,
    ) -> bool:
        """Send unless the ledger knows the server accepted it; the attempt is recorded first."""
        known = self._ledger.get(message_id)
        if known is not None and known.status is not DeliveryStatus.ATTEMPTING:
            return True
        if notice.digest != request.digest or notice.send_request_id != request.send_request_id:
            log.error("send request %s does not match the notice's approved content", event.id)
            return False
        self._ledger.record_attempt(
            message_id,
            event.tenant_id,
            request.draft_id,
            request.send_request_id,
            request.digest,
            event.id,
        )
        self._hook("attempt_recorded", event.id)
        try:
            self._mailer.send(
                Notice(
                    message_id=message_id,
                    sender=self._settings.sender,
                    recipient=notice.recipient,
                    subject=notice.subject,
                    body=notice.body,
                    draft_id=request.draft_id,
                    digest=request.digest,
                )
            )
        except Exception as error:
            self._ledger.record_failure(message_id, repr(error))
            log.warning("SMTP delivery of %s failed: %r", message_id, error)
            return False
        self._hook("delivered", event.id)
        self._ledger.mark_delivered(message_id)
        self._hook("delivery_recorded", event.id)
        return True

    def _commit_sent(
        self, event: IntegrationEvent, request: NoticeSendRequestedV1, message_id: str
    ) -> bool:
        """`record_notice_sent` as the system, caused by the request; a retry is the same
        command (same id and key), so it is answered `duplicate_accepted`."""
        result = self._commands.handle(
            command_envelope(
                Principal(event.tenant_id, Actor(ActorType.SYSTEM, WORKER_ID)),
                "record_notice_sent",
                {
                    "draft_id": request.draft_id,
                    "send_request_id": request.send_request_id,
                    "message_id": message_id,
                },
                command_id=f"notice-sent-{request.send_request_id}",
                correlation_id=event.correlation_id or event.id,
                causation_id=event.id,
                idempotency_key=f"notice-sent:{request.send_request_id}",
            )
        )
        if result.status in (CommandOutcome.ACCEPTED, CommandOutcome.DUPLICATE_ACCEPTED):
            return True
        self._ledger.record_failure(message_id, f"record_notice_sent: {result.reason}")
        log.warning("record_notice_sent for %s: %s", message_id, result.reason)
        return False


def _refusal(notice: NoticeDraftState, draft_id: str, tenant_id: str) -> str | None:
    """Why a request can never be served, whatever the ledger learns later; None if it may."""
    if notice.status is NoticeStatus.NEW:
        return None
    if notice.tenant_id != tenant_id:
        return f"notice {draft_id} belongs to another tenant than the request's ({tenant_id})"
    if notice.status in (NoticeStatus.REJECTED, NoticeStatus.WITHDRAWN):
        return f"notice {draft_id} is {notice.status}"
    return None
