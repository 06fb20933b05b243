"""Fixtures every test folder may need: an embedded store on a fresh data dir, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    data_dir = tmp_path / "eventstore"
    data_dir.mkdir()
    server = EmbeddedServer.start(data_dir)
    yield server
    server.stop(grace=1.0)


@pytest.fixture
def kurrent_client(embedded_server: EmbeddedServer) -> Iterator[KurrentDBClient]:
    """The official client, unchanged, connected to the embedded store."""
    client = KurrentDBClient(uri=embedded_server.url)
    yield client
    client.close()
