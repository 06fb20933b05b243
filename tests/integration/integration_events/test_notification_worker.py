"""The notification worker on real NATS JetStream and an SMTP sink: one distinct Message-ID at
the recipient and exactly one `notice_draft.sent`, whatever step of the send path crashed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.integration.contracts import SEND_REQUESTED, subject_for
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import OutboxRelay, RelaySettings
from caseledger.adapters.notifications.ledger import DeliveryLedger, DeliveryStatus
from caseledger.adapters.notifications.smtp import SmtpMailer
from caseledger.adapters.notifications.worker import STEPS, NotificationWorker, Outcome
from caseledger.domain.application.service import CommandService
from tests.integration.integration_events.conftest import Broker
from tests.integration.integration_events.drill import Drill, practice_drill
from tests.integration.integration_events.sink import SmtpSink

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
    events: KurrentEventStore,
    broker: Broker,
    sink: SmtpSink,
    ledger: DeliveryLedger,
    crash_at: str | None = None,
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
        CommandService(events),
        consumer,
        SmtpMailer(sink.host, sink.port),
        ledger,
        hook=hook,
    )


def _sent_events(events: KurrentEventStore, drill: Drill) -> list[dict[str, object]]:
    stream = events.read_stream(f"noticedraft-{drill.draft_id}")
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
