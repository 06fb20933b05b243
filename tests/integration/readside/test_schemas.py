"""One schema source for both read stores: each view's shared schema renders in each dialect to
the table its projection declares, with the dialect's types, and a store made before
generations gains their columns, keeping its rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from caseledger.adapters.readstore.dialect import UnknownToken
from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.postgres.store import POSTGRES
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.adapters.readstore.sqlite.store import SQLITE
from caseledger.projections.catalogue import all_projections
from tests.support.postgres import postgres_database
from tests.support.read_stores import BOTH_STORES

BEFORE_GENERATIONS = """
CREATE TABLE projection_versions (
    projection_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    position {{bigint}} NOT NULL DEFAULT -1
);
CREATE TABLE active_projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO projection_versions VALUES ('case_summary_v1', 'case_summary', 1, 41);
INSERT INTO active_projections VALUES ('case_summary', 1);
"""
"""The read side's two tables as a store made before retry and build generations has them."""


def column_types(kind: str, target: str, table: str) -> dict[str, str]:
    """`table`'s columns and their declared types, read from the database's own catalogue."""
    if kind == "sqlite":
        with sqlite3.connect(target) as connection:
            info = connection.execute(f"PRAGMA table_info({table})").fetchall()
        return {name: declared for _, name, declared, *_ in info}
    with psycopg.connect(target) as connection:
        found = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            (table,),
        ).fetchall()
    return {str(name): str(data_type) for name, data_type in found}


@pytest.fixture(params=BOTH_STORES)
def made(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A store's kind and where it is (a SQLite file, or a fresh PostgreSQL database's URL)."""
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "readmodels.db")
        return
    for url in postgres_database():
        yield "postgres", url


def opened(kind: str, target: str) -> SqlProjectionStore:
    if kind == "sqlite":
        return SqliteProjectionStore(target)
    return PostgresProjectionStore(target)


def test_every_view_has_one_schema_that_renders_in_both_dialects_without_a_token_left() -> None:
    for projection in all_projections():
        for dialect in (SQLITE, POSTGRES):
            script = dialect.schema(projection.base_id)
            assert script is not None, (dialect.name, projection.base_id)
            assert "{{" not in script
            assert "}}" not in script


def test_a_schema_naming_a_token_no_dialect_defines_is_refused() -> None:
    with pytest.raises(UnknownToken, match="bigints"):
        SQLITE.render("CREATE TABLE t (position {{bigints}} NOT NULL);")


def test_each_views_table_has_exactly_its_declared_columns_in_its_dialects_types(
    made: tuple[str, str],
) -> None:
    kind, target = made
    store = opened(kind, target)
    try:
        for projection in all_projections():
            store.prepare(projection)
            types = column_types(kind, target, projection.id)
            declared = {c for c in types if c != "search"}  # PostgreSQL's generated tsvector
            assert declared == {"key", "tenant_id", "position", "document", *projection.columns}
            if kind == "sqlite":
                assert (types["position"], types["document"]) == ("INTEGER", "TEXT")
            else:
                assert (types["position"], types["document"]) == ("bigint", "jsonb")
    finally:
        store.close()


def test_the_read_sides_own_tables_take_each_dialects_types(made: tuple[str, str]) -> None:
    kind, target = made
    store = opened(kind, target)
    try:
        store.migrate()
    finally:
        store.close()
    versions = column_types(kind, target, "projection_versions")
    leases = column_types(kind, target, "leases")
    if kind == "sqlite":
        assert (versions["generation"], leases["expires_at"]) == ("INTEGER", "REAL")
    else:
        assert (versions["generation"], leases["expires_at"]) == ("bigint", "double precision")


def test_a_store_made_before_generations_gains_their_columns_and_keeps_its_rows(
    made: tuple[str, str],
) -> None:
    kind, target = made
    store = opened(kind, target)
    try:
        store._run_script((SQLITE if kind == "sqlite" else POSTGRES).render(BEFORE_GENERATIONS))
        store.migrate()
        store.migrate()  # and a second run changes nothing
        assert store.generation("case_summary_v1") == 0
        assert store.checkpoint("case_summary_v1") == 41
        assert store.active_version("case_summary") == 1
        assert store.as_of("case_summary") == 41  # served by its first build: no generation name
    finally:
        store.close()
    assert "generation" in column_types(kind, target, "projection_versions")
    assert "projection_id" in column_types(kind, target, "active_projections")
