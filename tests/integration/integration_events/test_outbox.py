"""The outbox relay against a real NATS JetStream: public contracts, the event id as the
broker's message id, a checkpoint that moves only after the broker's ack, parking and retry,
and the seed's §27 row "outbox publish retry -> no duplicate consumer side effect"."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import orjson
import pytest

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.integration.admin import outbox_status, retry
from caseledger.adapters.integration.contracts import IntegrationEvent
from caseledger.adapters.integration.inbox import SqliteInbox
from caseledger.adapters.integration.jetstream import JetStream
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import OutboxRelay, RelaySettings
from caseledger.domain.application.service import CommandService
from tests.support.drill import practice_drill
from tests.support.nats import NATS_URL, Broker

pytestmark = pytest.mark.nats


class Crash(Exception):
    """A simulated crash of the process at a step."""


def _relay(
    events: KurrentEventStore, outbox: SqliteOutbox, broker: Broker, **kw: object
) -> OutboxRelay:
    settings = RelaySettings(prefix=broker.prefix, backoff=0.01, max_attempts=2)
    return OutboxRelay(events, outbox, broker.js, settings, **kw)  # type: ignore[arg-type]


def _consume_all(broker: Broker, durable: str, subject: str = ">") -> list[tuple[str, bytes]]:
    consumer = broker.js.pull(f"{broker.prefix}.{subject}", durable, broker.stream, ack_wait=30)
    got: list[tuple[str, bytes]] = []
    while batch := consumer.fetch(50, timeout=0.5):
        for message in batch:
            got.append((message.message_id, message.data))
            message.ack()
    return got


def test_committed_events_are_published_once_as_public_contracts_keyed_by_event_id(
    service: CommandService, events: KurrentEventStore, broker: Broker, tmp_path: Path
) -> None:
    drill = practice_drill(service, "pub")
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    relay = _relay(events, outbox, broker)

    relay.pump()
    relay.pump()  # nothing new: nothing again

    published = _consume_all(broker, "audit")
    types = [IntegrationEvent.parse(body).schema_name for _, body in published]
    assert types == [
        "caseledger.case.opened.v1",
        "caseledger.case.risk_level_changed.v1",
        "caseledger.notice.approved.v1",
        "caseledger.notice.send_requested.v1",
    ]
    for message_id, body in published:
        assert IntegrationEvent.parse(body).id == message_id
    send = IntegrationEvent.parse(published[-1][1])
    assert send.id == drill.send_request_event_id
    assert send.data == {
        "draft_id": drill.draft_id,
        "case_id": drill.case_id,
        "send_request_id": drill.send_request_id,
        "approval_id": send.data["approval_id"],
        "digest": drill.digest,
    }
    everything = b"".join(body for _, body in published)
    for secret in (b"SECRET-LEDGER-TEXT", b"lender@example.com", b"Stop lending", b"40%"):
        assert secret not in everything
    status = outbox_status(outbox, events.head_position())
    assert status.counts["published"] == 4
    assert status.checkpoint == events.head_position()
    assert status.lag == 0


def test_the_checkpoint_stays_until_the_broker_acknowledged(
    service: CommandService, events: KurrentEventStore, broker: Broker, tmp_path: Path
) -> None:
    practice_drill(service, "ack")
    outbox = SqliteOutbox(tmp_path / "outbox.db")

    def crash_before_publishing(step: str, message_id: str) -> None:
        if step == "attempting":
            raise Crash(step)

    with pytest.raises(Crash):
        _relay(events, outbox, broker, hook=crash_before_publishing).pump()
    first = outbox.messages()[0]
    assert (first.status.value, first.attempts) == ("pending", 1)
    assert outbox.checkpoint("integration-events") is None  # nothing acknowledged yet

    _relay(events, outbox, broker).pump()
    assert outbox.get(first.message_id).status.value == "published"  # type: ignore[union-attr]
    assert outbox.get(first.message_id).attempts == 2  # type: ignore[union-attr]
    assert len(_consume_all(broker, "after-crash")) == 4


def test_outbox_publish_retry_causes_no_duplicate_consumer_side_effect(
    service: CommandService, events: KurrentEventStore, broker: Broker, tmp_path: Path
) -> None:
    """Seed §27. The relay crashes after the broker acknowledged and before its checkpoint
    moved, so it publishes the same events again: the broker's duplicate window drops them.
    Beyond the window (a second copy stored) and on redelivery the inbox does."""
    practice_drill(service, "dup")
    outbox = SqliteOutbox(tmp_path / "outbox.db")

    def crash_after_ack(step: str, message_id: str) -> None:
        if step == "acknowledged":
            raise Crash(step)

    with pytest.raises(Crash):
        _relay(events, outbox, broker, hook=crash_after_ack).pump()
    _relay(events, outbox, broker).pump()
    first = outbox.messages()[-1]
    assert first.duplicate is True  # the broker recognised the repeat by Nats-Msg-Id

    # beyond the duplicate window: the same message stored twice by the broker
    body = first.body
    assert body is not None
    assert first.subject is not None
    broker.js.delete_stream(broker.stream)
    broker.js.ensure_stream(broker.stream, broker.prefix, dedup_window=0.1)
    broker.js.publish(first.subject, body, first.message_id)
    time.sleep(0.5)  # past the 0.1 s window
    broker.js.publish(first.subject, body, first.message_id)

    consumer_db = tmp_path / "consumer.db"
    inbox = SqliteInbox.open(consumer_db, "case-counter")
    inbox.connection.execute("CREATE TABLE opened (case_id TEXT, n INTEGER)")
    consumer = broker.js.pull(f"{broker.prefix}.>", "case-counter", broker.stream, ack_wait=1.0)

    def effect_of(message_body: bytes) -> object:
        event = IntegrationEvent.parse(message_body)
        return lambda conn: conn.execute(
            "INSERT INTO opened VALUES (?, 1)", (event.data["case_id"],)
        )

    deliveries = 0
    crashed_once = False
    while batch := consumer.fetch(10, timeout=1.5):  # > ack_wait: the redelivery comes
        for message in batch:
            deliveries += 1
            inbox.process(message.message_id, effect_of(message.data))  # type: ignore[arg-type]
            if not crashed_once:
                crashed_once = True  # the consumer dies before acking: redelivered
                continue
            message.ack()
    assert deliveries >= 3  # two stored copies, one of them delivered twice
    rows = sqlite3.connect(consumer_db).execute("SELECT COUNT(*) FROM opened").fetchone()
    assert rows == (1,)


def test_a_refused_message_is_parked_visible_and_published_on_retry(
    service: CommandService, events: KurrentEventStore, broker: Broker, tmp_path: Path
) -> None:
    practice_drill(service, "park")
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    orphan_prefix = f"nostream{uuid.uuid4().hex[:8]}"
    settings = RelaySettings(prefix=orphan_prefix, backoff=0.01, max_attempts=2)

    OutboxRelay(events, outbox, broker.js, settings).pump()

    status = outbox_status(outbox, events.head_position())
    assert status.counts["parked"] == 4
    assert status.checkpoint == events.head_position()  # moved past, nothing lost: parked
    assert {(m.attempts, m.status) for m in status.parked} == {(2, "parked")}
    assert all("no stream" in (m.last_error or "") for m in status.parked)

    broker.js.ensure_stream(f"{broker.stream}_P", orphan_prefix)
    try:
        assert retry(outbox) == 4
        OutboxRelay(events, outbox, broker.js, settings).pump()
        assert outbox_status(outbox).counts["published"] == 4
    finally:
        broker.js.delete_stream(f"{broker.stream}_P")


def test_status_is_readable_while_nothing_was_published(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    status = outbox_status(outbox, head_position=None)
    assert (status.checkpoint, status.lag, status.counts["pending"]) == (None, None, 0)
    assert orjson.loads(status.model_dump_json())["parked"] == []


def test_an_unreachable_broker_fails_loudly() -> None:
    from caseledger.adapters.integration.jetstream import BrokerUnavailable

    with pytest.raises(BrokerUnavailable):
        JetStream.connect("nats://127.0.0.1:1", timeout=0.5)
    assert NATS_URL


def test_a_running_relay_publishes_events_committed_after_it_started(
    service: CommandService, events: KurrentEventStore, broker: Broker, tmp_path: Path
) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    relay = _relay(events, outbox, broker).start()
    try:
        practice_drill(service, "live")
        deadline = time.monotonic() + 30
        while outbox.counts()["published"] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        relay.stop()
    assert outbox.counts()["published"] == 4
    assert len(_consume_all(broker, "live")) == 4
