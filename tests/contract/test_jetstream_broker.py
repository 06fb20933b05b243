"""NATS JetStream passes the broker contract (NATS at 127.0.0.1:4222; skipped with the reason
where it does not answer, except under CI=true)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.contract.broker import BrokerContract, BrokerUnderTest, Kept
from tests.support.nats import Broker, stream_of_its_own


@pytest.mark.nats
class TestJetStreamBroker(BrokerContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
        with stream_of_its_own() as own:
            yield BrokerUnderTest(own.js, own.prefix, lambda: _kept(own))


def _kept(own: Broker) -> list[Kept]:
    """Everything the stream holds, through a new durable consumer from its start."""
    consumer = own.js.pull(f"{own.prefix}.>", f"contract{uuid.uuid4().hex[:8]}", own.stream)
    kept: list[Kept] = []
    while batch := consumer.fetch(batch=100, timeout=1.0):
        kept += [(d.subject, d.data, d.message_id) for d in batch]
    return kept
