"""Service tests on both stores: `store` is the in-memory fake or the embedded store (in
memory) through the real client or in process, so a scenario written once proves the service
on each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.service import CommandService
from tests.support.clocks import FixedClock
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service
from tests.support.stores import StoreFactory, embedded_store, inprocess_store, kurrent_store


@pytest.fixture(params=["memory", "kurrent", "inprocess"])
def new_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """Makes fresh, empty stores of one kind; closed after the test."""
    with ExitStack() as stack:

        def make() -> EventStore:
            if request.param == "memory":
                return InMemoryEventStore()
            server = stack.enter_context(embedded_store())
            adapter = kurrent_store if request.param == "kurrent" else inprocess_store
            return stack.enter_context(adapter(server))

        yield make


@pytest.fixture
def store(new_store: StoreFactory) -> EventStore:
    return new_store()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def service(store: EventStore, clock: FixedClock) -> CommandService:
    return command_service(store, clock=clock)


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    """One embedded store in memory, for tests on the real store only."""
    with embedded_store() as running:
        yield running
