"""The outbox keeps the relay's checkpoint (moved forward only, with each message it publishes or
skips): `SqliteOutbox` passes the checkpoint store contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import RELAY_NAME
from tests.contract.checkpoint_store import CheckpointStoreContract, Opener


class OutboxCheckpoints:
    """The relay's checkpoint as the relay moves it (`advance`: it never reads one first)."""

    def __init__(self, path: Path) -> None:
        self._outbox = SqliteOutbox(path)

    def checkpoint(self, name: str) -> int | None:
        return self._outbox.checkpoint(name)

    def save(self, name: str, position: int, seen: int | None) -> None:
        self._outbox.advance(name, position)

    def close(self) -> None:
        self._outbox.close()


class TestSqliteOutboxCheckpoints(CheckpointStoreContract):
    names = (RELAY_NAME, "another-relay")

    def storage(self, request: pytest.FixtureRequest) -> Iterator[Opener]:
        path = request.getfixturevalue("tmp_path") / "outbox.db"
        yield lambda: OutboxCheckpoints(path)
