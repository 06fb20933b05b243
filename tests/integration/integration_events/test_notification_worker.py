"""The notification worker on real NATS JetStream and an SMTP sink: one distinct Message-ID at
the recipient and exactly one `notice_draft.sent`, whatever step of the send path crashed."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
import pytest

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.integration.contracts import (
    SEND_REQUESTED,
    IntegrationEvent,
    subject_for,
)
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import OutboxRelay, RelaySettings
from caseledger.adapters.notifications.ledger import DeliveryLedger, DeliveryStatus
from caseledger.adapters.notifications.sink import SmtpSink
from caseledger.adapters.notifications.smtp import SmtpMailer
from caseledger.adapters.notifications.worker import (
    STEPS,
    NotificationWorker,
    Outcome,
    WorkerSettings,
)
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.service import CommandService
from tests.support.drill import Drill, practice_drill
from tests.support.nats import Broker
from tests.support.services import command_service

pytestmark = pytest.mark.nats


class Crash(Exception):
    """The worker process dies here."""


def _published_request(
    service: CommandService, events: KurrentEventStore, broker: Broker, tmp_path: Path, tag: str
) -> Drill:
    drill = practice_drill(service, tag)
    settings = RelaySettings(prefix=broker.prefix, backoff=0.01)
    OutboxRelay(events, SqliteOutbox(tmp_path / "outbox.db"), broker.js, settings).pump()
    return drill


def _worker(
    events: EventStore,
    broker: Broker,
    sink: SmtpSink,
    ledger: DeliveryLedger,
    crash_at: str | None = None,
    settings: WorkerSettings | None = None,
) -> NotificationWorker:
    def hook(step: str, message_id: str) -> None:
        if step == crash_at:
            raise Crash(step)

    consumer = broker.js.pull(
        subject_for(broker.prefix, SEND_REQUESTED.name),
        "notifications",
        broker.stream,
        ack_wait=1.0,
    )
    return NotificationWorker(
        events,
        command_service(events),
        consumer,
        SmtpMailer(sink.host, sink.port),
        ledger,
        settings,
        hook=hook,
    )


def _sent_events(events: KurrentEventStore, drill: Drill) -> list[dict[str, object]]:
    stream = events.read_stream(f"noticedraft-t1_{drill.draft_id}")
    return [
        {"data": orjson.loads(e.data), "meta": orjson.loads(e.metadata)}
        for e in stream
        if e.type == "notice_draft.sent"
    ]


def _run_until_done(worker: NotificationWorker, rounds: int = 10) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for _ in range(rounds):
        outcomes += worker.run_once(batch=5, timeout=1.5)
        if Outcome.SENT in outcomes or Outcome.ALREADY_PROCESSED in outcomes:
            return outcomes
    return outcomes


def test_an_approved_notice_is_delivered_once_and_recorded_as_sent_caused_by_the_request(
    service: CommandService,
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    drill = _published_request(service, events, broker, tmp_path, "send")
    ledger = DeliveryLedger(tmp_path / "notifications.db")

    assert _run_until_done(_worker(events, broker, sink, ledger)) == [Outcome.SENT]

    (message,) = sink.messages
    assert (message["To"], message["Subject"]) == ("lender@example.com", "Cease and desist")
    assert message.get_payload().strip() == "Stop lending above the legal cap."  # type: ignore[union-attr]
    (sent,) = _sent_events(events, drill)
    assert sent["data"]["message_id"] == message["Message-ID"]  # type: ignore[index]
    assert sent["meta"]["commandCausationId"] == drill.send_request_event_id  # type: ignore[index]
    assert sent["meta"]["$correlationId"] == drill.correlation_id  # type: ignore[index]
    assert sent["meta"]["actorType"] == "system"  # type: ignore[index]
    (delivery,) = ledger.for_drafts([drill.draft_id])
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RECORDED, 1)
    assert ledger.inbox.seen(drill.send_request_event_id)


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_each_step_of_the_send_path_ends_with_one_message_and_one_sent_event(
    step: str,
    service: CommandService,
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    drill = _published_request(service, events, broker, tmp_path, f"crash-{step}")
    ledger_path = tmp_path / "notifications.db"

    with pytest.raises(Crash):
        _run_until_done(_worker(events, broker, sink, DeliveryLedger(ledger_path), step))

    # a new worker process on the same ledger; JetStream redelivers after ack_wait
    ledger = DeliveryLedger(ledger_path)
    outcomes = _run_until_done(_worker(events, broker, sink, ledger))

    expected = Outcome.ALREADY_PROCESSED if step == "processed" else Outcome.SENT
    assert outcomes == [expected]
    assert len(set(sink.message_ids())) == 1
    # only a crash between SMTP's acceptance and the ledger's record makes it resend (same id)
    assert len(sink.messages) == (2 if step == "delivered" else 1)
    assert len(_sent_events(events, drill)) == 1
    (delivery,) = ledger.for_drafts([drill.draft_id])
    assert delivery.status is DeliveryStatus.RECORDED
    assert ledger.inbox.seen(drill.send_request_event_id)
    # and a later redelivery (beyond any broker window) changes nothing
    assert _run_until_done(_worker(events, broker, sink, ledger), rounds=1) == []
    assert len(_sent_events(events, drill)) == 1


def test_an_unreachable_smtp_server_leaves_the_request_for_a_later_attempt(
    service: CommandService,
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    drill = _published_request(service, events, broker, tmp_path, "smtp-down")
    ledger = DeliveryLedger(tmp_path / "notifications.db")
    down = _worker(events, broker, sink, ledger)
    down._mailer = SmtpMailer("127.0.0.1", 1, timeout=1.0)  # nothing listens on port 1

    assert down.run_once(batch=1, timeout=1.5) == [Outcome.RETRY_LATER]
    assert _sent_events(events, drill) == []
    (delivery,) = ledger.for_drafts([drill.draft_id])
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.ATTEMPTING, 1)
    assert delivery.last_error


# ---- requests for notices this deployment does not know (yet) --------------------------------

QUICK = WorkerSettings(retry_delay=0.2, unknown_notice_deliveries=3)
"""Retries come again within a fraction of a second; a request waits three deliveries."""


class LaggingReplica:
    """The event store as a replica that has not caught up: notice streams read as missing
    until `catch_up()`, as when the broker delivers before the worker's ledger has the notice."""

    def __init__(self, store: KurrentEventStore) -> None:
        self._store, self._caught_up = store, False

    def catch_up(self) -> None:
        self._caught_up = True

    def read_stream(self, stream: str, from_revision: int = 0, limit: int | None = None) -> Any:
        if not self._caught_up and stream.startswith("noticedraft-"):
            return []
        return self._store.read_stream(stream, from_revision, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _publish_request(broker: Broker, draft_id: str, tenant_id: str = "t1") -> str:
    """A send request published by hand (not from this deployment's ledger); its message id."""
    event = IntegrationEvent(
        id=str(uuid.uuid4()),
        type=SEND_REQUESTED.public_type,
        version=SEND_REQUESTED.version,
        schema_name=SEND_REQUESTED.name,
        tenant_id=tenant_id,
        occurred_at=datetime.now(UTC),
        correlation_id="corr-by-hand",
        causation_id=None,
        source_stream=f"noticedraft-{tenant_id}_{draft_id}",
        source_revision=7,
        source_position=1,
        data={
            "draft_id": draft_id,
            "case_id": "c-by-hand",
            "send_request_id": "sr-by-hand",
            "approval_id": "a-by-hand",
            "digest": "d-by-hand",
        },
    )
    broker.js.publish(subject_for(broker.prefix, SEND_REQUESTED.name), event.body(), event.id)
    return event.id


def _outcomes_until_dropped(worker: NotificationWorker, rounds: int = 10) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for _ in range(rounds):
        outcomes += worker.run_once(batch=5, timeout=1.5)
        if Outcome.DROPPED in outcomes:
            return outcomes
    return outcomes


def test_a_request_that_arrives_before_its_notice_is_retried_then_sent_once_the_notice_is_known(
    service: CommandService,
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    drill = _published_request(service, events, broker, tmp_path, "lagging")
    replica = LaggingReplica(events)
    ledger = DeliveryLedger(tmp_path / "notifications.db")
    worker = _worker(cast(EventStore, replica), broker, sink, ledger, settings=QUICK)

    assert worker.run_once(batch=5, timeout=1.5) == [Outcome.RETRY_LATER]
    assert sink.messages == []

    replica.catch_up()
    assert _run_until_done(worker) == [Outcome.SENT]
    assert len(sink.messages) == 1
    assert len(_sent_events(events, drill)) == 1
    assert ledger.dropped() == []


def test_a_request_for_a_notice_still_unknown_after_bounded_deliveries_is_terminated_with_a_reason(
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    request_id = _publish_request(broker, "n-nowhere")
    ledger = DeliveryLedger(tmp_path / "notifications.db")
    worker = _worker(events, broker, sink, ledger, settings=QUICK)

    with caplog.at_level(logging.WARNING, logger="caseledger.adapters.notifications.worker"):
        outcomes = _outcomes_until_dropped(worker)

    assert outcomes == [Outcome.RETRY_LATER, Outcome.RETRY_LATER, Outcome.DROPPED]
    (dropped,) = ledger.dropped()
    assert (dropped.request_message_id, dropped.draft_id) == (request_id, "n-nowhere")
    assert (dropped.tenant_id, dropped.deliveries) == ("t1", 3)
    assert "n-nowhere" in dropped.reason
    assert "not known" in dropped.reason
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(request_id in message and "not known" in message for message in errors)
    # terminated: never delivered again, not even after the consumer's ack wait
    assert worker.run_once(batch=5, timeout=1.5) == []
    assert sink.messages == []


def test_a_request_naming_another_tenants_notice_never_reaches_it(
    service: CommandService,
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    """Streams are the tenant's: a t2 request for t1's draft id reads t2's stream of that id,
    which does not exist, so it waits as for any unknown notice and nothing is delivered."""
    drill = practice_drill(service, "other-tenant")
    _publish_request(broker, drill.draft_id, tenant_id="t2")
    ledger = DeliveryLedger(tmp_path / "notifications.db")

    outcomes = _worker(events, broker, sink, ledger, settings=QUICK).run_once(timeout=1.5)

    assert outcomes == [Outcome.RETRY_LATER]
    assert sink.messages == []
    assert _sent_events(events, drill) == []


def test_a_malformed_request_is_terminated_at_its_first_delivery_with_its_reason_recorded(
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    tmp_path: Path,
) -> None:
    subject = subject_for(broker.prefix, SEND_REQUESTED.name)
    broker.js.publish(subject, b'{"not": "a send request"}', "malformed-1")
    ledger = DeliveryLedger(tmp_path / "notifications.db")

    outcomes = _worker(events, broker, sink, ledger, settings=QUICK).run_once(timeout=1.5)

    assert outcomes == [Outcome.DROPPED]
    (dropped,) = ledger.dropped()
    assert (dropped.request_message_id, dropped.draft_id) == ("malformed-1", None)
    assert "malformed" in dropped.reason
