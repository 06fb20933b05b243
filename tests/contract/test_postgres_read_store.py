"""The PostgreSQL read store passes the read-store contract (PostgreSQL at 127.0.0.1:5432;
skipped with the reason where it does not answer, except under CI=true)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from tests.contract.read_store import ReadStoreContract
from tests.support.read_stores import built_store


@pytest.mark.postgres
class TestPostgresProjectionStore(ReadStoreContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[SqlProjectionStore]:
        yield from built_store("postgres", request.getfixturevalue("tmp_path"))
