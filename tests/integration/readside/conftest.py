"""Read-side fixtures: a projection store per backend (SQLite always; PostgreSQL at
127.0.0.1:5432 when it answers — under CI=true it must), and a fake `$all`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from tests.support.facts import FakeLog
from tests.support.postgres import postgres_database
from tests.support.read_stores import BOTH_STORES, built_store


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


@pytest.fixture(params=BOTH_STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlProjectionStore]:
    """Each test taking `store` runs once against SQLite and once against PostgreSQL."""
    yield from built_store(request.param, tmp_path)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteProjectionStore]:
    built = SqliteProjectionStore(tmp_path / "readmodels.db")
    yield built
    built.close()


@pytest.fixture
def log() -> FakeLog:
    return FakeLog()
