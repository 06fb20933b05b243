"""The read stores keep the projections' checkpoints (each moved by the batch it commits with):
SQLite and PostgreSQL pass the checkpoint store contract. PostgreSQL at 127.0.0.1:5432 is
skipped with the reason where it does not answer, except under CI=true."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.ports import ProjectionBatch
from tests.contract.checkpoint_store import Checkpoints, CheckpointStoreContract, Opener
from tests.contract.read_store import EVIDENCE, SUMMARY
from tests.support.postgres import postgres_database


class ProjectionCheckpoints:
    """A read store's checkpoints as the runner moves them: a batch from `seen` to `position`."""

    def __init__(self, store: SqlProjectionStore) -> None:
        self._store = store
        store.prepare(SUMMARY)
        store.prepare(EVIDENCE)

    def checkpoint(self, name: str) -> int | None:
        return self._store.checkpoint(name)

    def save(self, name: str, position: int, seen: int | None) -> None:
        self._store.commit([ProjectionBatch(name, seen, position)])

    def close(self) -> None:
        self._store.close()


class TestSqliteProjectionCheckpoints(CheckpointStoreContract):
    names = (SUMMARY.id, EVIDENCE.id)

    def storage(self, request: pytest.FixtureRequest) -> Iterator[Opener]:
        path = request.getfixturevalue("tmp_path") / "readmodels.db"
        yield lambda: ProjectionCheckpoints(SqliteProjectionStore(path))


@pytest.mark.postgres
class TestPostgresProjectionCheckpoints(CheckpointStoreContract):
    names = (SUMMARY.id, EVIDENCE.id)

    def storage(self, request: pytest.FixtureRequest) -> Iterator[Opener]:
        for url in postgres_database():
            yield partial(_on_postgres, url)


def _on_postgres(url: str) -> Checkpoints:
    return ProjectionCheckpoints(PostgresProjectionStore(url))
