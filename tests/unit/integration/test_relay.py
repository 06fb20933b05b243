"""The outbox relay's rules without a broker: the in-memory one, failing as told."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseledger.adapters.integration.contracts import IntegrationEvent
from caseledger.adapters.integration.jetstream import BrokerRejected, BrokerUnavailable
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import OutboxRelay, RelaySettings
from tests.support.brokers import InMemoryBroker
from tests.support.desk import case_under_review
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service


@pytest.fixture
def store() -> InMemoryEventStore:
    events = InMemoryEventStore()
    case_under_review(command_service(events))  # case.opened is the one publishable event
    return events


def _relay(store: InMemoryEventStore, outbox: SqliteOutbox, broker: InMemoryBroker) -> OutboxRelay:
    return OutboxRelay(store, outbox, broker, RelaySettings(backoff=0.0, max_attempts=2))


def test_an_unreachable_broker_is_retried_never_skipped_or_parked(
    store: InMemoryEventStore, tmp_path: Path
) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    down = [BrokerUnavailable("down")] * 5
    broker = InMemoryBroker(failures=list(down))

    _relay(store, outbox, broker).pump()

    (message,) = outbox.messages()
    assert (message.status.value, message.attempts) == ("published", 6)
    (published,) = broker.published
    assert published[0] == "caseledger.case.opened.v1"
    assert IntegrationEvent.parse(published[1]).id == published[2] == message.message_id
    assert outbox.checkpoint("integration-events") == store.head_position()


def test_a_refusing_broker_gets_the_message_parked_after_max_attempts(
    store: InMemoryEventStore, tmp_path: Path
) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    broker = InMemoryBroker(failures=[BrokerRejected("too large"), BrokerRejected("too large")])

    _relay(store, outbox, broker).pump()

    (message,) = outbox.messages()
    assert (message.status.value, message.attempts, message.last_error) == (
        "parked",
        2,
        "too large",
    )
    assert broker.published == []
    assert outbox.request_retry() == 1
    _relay(store, outbox, broker).pump()
    assert outbox.get(message.message_id).status.value == "published"  # type: ignore[union-attr]
    assert len(broker.published) == 1


def test_events_without_a_contract_move_the_checkpoint_and_publish_nothing(
    tmp_path: Path,
) -> None:
    events = InMemoryEventStore()
    case_under_review(command_service(events))
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    broker = InMemoryBroker()
    relay = _relay(events, outbox, broker)
    relay.pump()
    assert relay.pump() == 0  # nothing new
    assert len(broker.published) == 1
