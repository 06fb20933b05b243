"""The SQLite read store passes the read-store contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from tests.contract.read_store import ReadStoreContract
from tests.support.read_stores import built_store


class TestSqliteProjectionStore(ReadStoreContract):
    def connect(self, request: pytest.FixtureRequest) -> Iterator[SqlProjectionStore]:
        yield from built_store("sqlite", request.getfixturevalue("tmp_path"))
