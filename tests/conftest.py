"""Fixtures every test folder may need: an embedded store on a fresh data dir, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer


@pytest.fixture
def embedded_server() -> Iterator[EmbeddedServer]:
    """A fresh in-memory store (`--mem-db`): the protocol, not durability, is under test."""
    server = EmbeddedServer.start(None, mem_db=True)
    yield server
    server.stop(grace=1.0)


@pytest.fixture
def durable_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A store on a fresh data dir, for tests of what survives on disk."""
    server = EmbeddedServer.start(tmp_path / "eventstore")
    yield server
    server.stop(grace=1.0)


@pytest.fixture
def kurrent_client(embedded_server: EmbeddedServer) -> Iterator[KurrentDBClient]:
    """The official client, unchanged, connected to the embedded store."""
    client = KurrentDBClient(uri=embedded_server.url)
    yield client
    client.close()
