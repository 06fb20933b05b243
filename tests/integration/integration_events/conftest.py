"""Fixtures for integration events: a real NATS JetStream at 127.0.0.1:4222 (skipped with the
reason when unreachable, except under CI=true where it must answer), one JetStream stream and
subject prefix per test, an embedded event store, and an SMTP sink on loopback."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.integration.jetstream import JetStream
from caseledger.domain.application.service import CommandService
from tests.integration.integration_events.sink import SmtpSink

NATS_URL = os.environ.get("CASELEDGER_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _require_nats() -> None:
    host, port = NATS_URL.removeprefix("nats://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS JetStream is required under CI=true at {NATS_URL}: {error}")
        pytest.skip(f"NATS JetStream at {NATS_URL} is unreachable: {error}")


@dataclass(frozen=True)
class Broker:
    """A JetStream connection with a stream of its own for one test."""

    js: JetStream
    stream: str
    prefix: str


@pytest.fixture
def broker() -> Iterator[Broker]:
    _require_nats()
    js = JetStream.connect(NATS_URL)
    tag = uuid.uuid4().hex[:10]
    built = Broker(js, f"CLTEST_{tag}", f"cltest{tag}")
    js.ensure_stream(built.stream, built.prefix)
    yield built
    js.delete_stream(built.stream)
    js.close()


@pytest.fixture
def events() -> Iterator[KurrentEventStore]:
    server = EmbeddedServer.start(None, mem_db=True)
    store = KurrentEventStore.connect(server.url)
    yield store
    store.close()
    server.stop(grace=1.0)


@pytest.fixture
def service(events: KurrentEventStore) -> CommandService:
    return CommandService(events)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    started = SmtpSink.start()
    yield started
    started.stop()
