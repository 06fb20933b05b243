"""A fresh projection store per test on each backend: SQLite in a temporary directory, or a
fresh PostgreSQL database (skipped where PostgreSQL does not answer, except under CI=true)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from tests.support.postgres import postgres_database

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
