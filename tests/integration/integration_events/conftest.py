"""Fixtures for integration events: a real NATS JetStream at 127.0.0.1:4222 (skipped with the
reason when unreachable, except under CI=true where it must answer), one JetStream stream and
subject prefix per test, an embedded event store, and an SMTP sink on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.notifications.sink import SmtpSink
from caseledger.domain.application.service import CommandService
from tests.support.nats import Broker, stream_of_its_own
from tests.support.services import command_service


@pytest.fixture
def broker() -> Iterator[Broker]:
    with stream_of_its_own() as built:
        yield built


@pytest.fixture
def events() -> Iterator[KurrentEventStore]:
    server = EmbeddedServer.start(None, mem_db=True)
    store = KurrentEventStore.connect(server.url)
    yield store
    store.close()
    server.stop(grace=1.0)


@pytest.fixture
def service(events: KurrentEventStore) -> CommandService:
    return command_service(events)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    started = SmtpSink.start()
    yield started
    started.stop()
