"""The in-memory fake the unit service tests stand on passes the EventStore contract, so what
those tests prove holds for the real stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caseledger.domain.application.ports import EventStore
from tests.contract.event_store import EventStoreContract
from tests.support.memory_store import InMemoryEventStore


class TestInMemoryEventStore(EventStoreContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        yield InMemoryEventStore()
