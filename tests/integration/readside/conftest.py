"""Read-side fixtures: a projection store per backend (SQLite always; PostgreSQL at
127.0.0.1:5432 when it answers — under CI=true it must), and a fake `$all`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from tests.unit.projections.facts import FakeLog

POSTGRES_ADMIN_URL = os.environ.get(
    "CASELEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_database() -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {error}")
    name = f"caseledger_rs_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


BOTH_STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def built_store(
    kind: str,
    tmp_path: Path,
    sqlite: type[SqliteProjectionStore] = SqliteProjectionStore,
    postgres: type[PostgresProjectionStore] = PostgresProjectionStore,
) -> Iterator[SqlProjectionStore]:
    """A fresh store of `kind` (SQLite in `tmp_path`, or a fresh PostgreSQL database), closed
    after its test."""
    built: SqlProjectionStore
    if kind == "sqlite":
        built = sqlite(tmp_path / "readmodels.db")
        yield built
        built.close()
        return
    for url in postgres_database():
        built = postgres(url)
        yield built
        built.close()


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
