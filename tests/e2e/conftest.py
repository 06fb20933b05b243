"""A live caseledger over real HTTP, one service per test module; tests use their own case
ids."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from tests.support.api_client import ApiClient
from tests.support.live_service import Live, live_service


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(tmp_path_factory.mktemp("caseledger")) as service:
        yield service


@pytest.fixture
def as_(live: Live) -> Iterator[Callable[[str | None], ApiClient]]:
    """`as_("tok-reviewer-t1")` -> a client calling as that token."""
    clients: list[ApiClient] = []

    def make(token: str | None) -> ApiClient:
        client = live.client(token)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


_numbers = itertools.count(1)


@pytest.fixture
def case_id() -> str:
    return f"case-e2e-{next(_numbers)}"
