from __future__ import annotations

import pytest

from caseledger.domain.application.service import CommandService
from tests.support.clocks import FixedClock
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def service(store: InMemoryEventStore, clock: FixedClock) -> CommandService:
    return command_service(store, clock=clock)
