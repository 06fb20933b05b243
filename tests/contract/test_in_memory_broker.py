"""The in-memory broker the relay's unit tests use passes the broker contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.broker import BrokerContract, BrokerUnderTest
from tests.support.brokers import InMemoryBroker


class TestInMemoryBroker(BrokerContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
        broker = InMemoryBroker("cltest")
        yield BrokerUnderTest(broker, broker.prefix, lambda: list(broker.published))
