"""A version that serves has its secondary indexes; a version built beside a serving one gets
them when it is switched to (run once against SQLite and once against PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest

from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.ports import ProjectionBatch
from caseledger.projections.rebuild import RebuildProgress, rebuild
from caseledger.projections.views.case_summary import CaseSummaryProjection
from caseledger.projections.views.evidence_search import EvidenceSearchProjection
from tests.support.facts import FakeLog, evidence_submitted, opened
from tests.support.read_stores import BOTH_STORES, built_store
from tests.support.rows import changes, evidence_row, summary_row
from tests.support.runners import FAST, caught_up_runner

SUMMARY = CaseSummaryProjection()
EVIDENCE = EvidenceSearchProjection()
SUMMARY_INDEXES = {"case_summary_v1_dashboard", "case_summary_v1_recent"}


class EvidenceSearchV1(EvidenceSearchProjection):
    """The version deployments served before v2 (its migration files stay)."""

    version: ClassVar[int] = 1


class EvidenceSearchV3(EvidenceSearchProjection):
    """A next version, built beside v2."""

    version: ClassVar[int] = 3


class SqliteWithV3(SqliteProjectionStore):
    def _migration(self, name: str) -> str:
        if name == "evidence_search_v3":
            return super()._migration("evidence_search_v2").replace("_v2", "_v3")
        return super()._migration(name)


class PostgresWithV3(PostgresProjectionStore):
    def _migration(self, name: str) -> str:
        if name == "evidence_search_v3":
            return super()._migration("evidence_search_v2").replace("_v2", "_v3")
        return super()._migration(name)


@pytest.fixture(params=BOTH_STORES)
def store_with_v3(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlProjectionStore]:
    yield from built_store(request.param, tmp_path, SqliteWithV3, PostgresWithV3)


def evidence_rows() -> list[tuple[str, str, str]]:
    return [
        ("c1/e1", "offshore wire transfer to a shell company", "approved"),
        ("c1/e2", "offshore wire rumour", "submitted"),
        ("c1/e3", "offshore wire denied", "rejected"),
    ]


def test_a_version_activated_at_once_has_its_indexes_before_it_holds_a_row(
    store: SqlProjectionStore,
) -> None:
    store.prepare(SUMMARY)
    assert store.indexed(SUMMARY.id) == set()

    store.activate(SUMMARY.name, SUMMARY.version)

    assert store.indexed(SUMMARY.id) == SUMMARY_INDEXES
    assert store.checkpoint(SUMMARY.id) is None


def test_a_version_built_beside_gets_its_indexes_when_switched_to(
    store: SqlProjectionStore,
) -> None:
    store.prepare(SUMMARY)
    rows = [summary_row(f"c{i}", status="opened" if i % 2 else "closed") for i in range(6)]
    store.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(*rows))])
    assert store.indexed(SUMMARY.id) == set()

    store.activate(SUMMARY.name, SUMMARY.version)

    assert store.indexed(SUMMARY.id) == SUMMARY_INDEXES
    found = store.find(SUMMARY.name, "t1", {"status": "opened"}, limit=10)
    assert sorted(r.key for r in found.rows) == ["c1", "c3", "c5"]


def test_preparing_an_active_version_keeps_its_indexes(store: SqlProjectionStore) -> None:
    store.prepare(SUMMARY)
    store.activate(SUMMARY.name, SUMMARY.version)

    store.prepare(SUMMARY)
    store.activate(SUMMARY.name, SUMMARY.version)

    assert store.indexed(SUMMARY.id) == SUMMARY_INDEXES


def test_evidence_written_before_the_switch_is_searchable_after_it_and_kept_in_step(
    store_with_v3: SqlProjectionStore,
) -> None:
    store = store_with_v3
    store.prepare(EVIDENCE)
    store.activate(EVIDENCE.name, EVIDENCE.version)
    v3 = EvidenceSearchV3()
    store.prepare(v3)
    built = changes(*(evidence_row(k, text, status) for k, text, status in evidence_rows()))
    store.commit([ProjectionBatch(v3.id, None, 100, built)])
    assert store.indexed(v3.id) == set()

    store.activate(v3.name, v3.version)
    store.activate(v3.name, v3.version)  # again, as every runner start does: indexed once

    assert store.indexed(v3.id) >= {"evidence_search_v3_case"}
    assert [h.row.key for h in store.search(v3.name, "t1", "offshore wire", 5)] == ["c1/e1"]
    later = changes(
        evidence_row("c1/e1", "offshore wire transfer to a shell company", "rejected"),
        evidence_row("c1/e2", "offshore wire rumour", "approved"),
    )
    store.commit([ProjectionBatch(v3.id, 100, 200, later)])
    assert [h.row.key for h in store.search(v3.name, "t1", "offshore wire", 5)] == ["c1/e2"]


def test_evidence_search_v1_still_serves_deployments_that_have_not_switched(
    store: SqlProjectionStore,
) -> None:
    v1 = EvidenceSearchV1()
    store.prepare(v1)
    store.activate(v1.name, v1.version)
    built = changes(*(evidence_row(k, text, status) for k, text, status in evidence_rows()))
    store.commit([ProjectionBatch(v1.id, None, 100, built)])

    assert store.indexed(v1.id) >= {"evidence_search_v1_case"}
    assert [h.row.key for h in store.search(v1.name, "t1", "offshore", 5)] == ["c1/e1"]


def test_evidence_search_v2_finds_approved_evidence_only(store: SqlProjectionStore) -> None:
    store.prepare(EVIDENCE)
    store.activate(EVIDENCE.name, EVIDENCE.version)
    built = changes(*(evidence_row(k, text, status) for k, text, status in evidence_rows()))
    store.commit([ProjectionBatch(EVIDENCE.id, None, 100, built)])

    assert EVIDENCE.version == 2
    assert [h.row.key for h in store.search(EVIDENCE.name, "t1", "offshore wire", 5)] == ["c1/e1"]


@pytest.mark.postgres
def test_evidence_search_v2_computes_the_search_vector_for_approved_rows_only(
    postgres_url: str,
) -> None:
    store = PostgresProjectionStore(postgres_url)
    store.prepare(EVIDENCE)
    built = changes(*(evidence_row(k, text, status) for k, text, status in evidence_rows()))
    store.commit([ProjectionBatch(EVIDENCE.id, None, 100, built)])
    store.close()

    with psycopg.connect(postgres_url) as connection:
        vectors = connection.execute(
            "SELECT key, search IS NOT NULL FROM evidence_search_v2 ORDER BY key"
        ).fetchall()
    assert vectors == [("c1/e1", True), ("c1/e2", False), ("c1/e3", False)]


def test_the_full_text_index_of_a_rebuilt_sqlite_version_is_consistent(tmp_path: Path) -> None:
    store = SqliteWithV3(tmp_path / "readmodels.db")
    v3 = EvidenceSearchV3()
    store.prepare(v3)
    built = changes(*(evidence_row(k, text, status) for k, text, status in evidence_rows()))
    store.commit([ProjectionBatch(v3.id, None, 100, built)])
    store.activate(v3.name, v3.version)
    store.prepare(v3)
    store.activate(v3.name, v3.version)

    with store._write() as cursor:  # raises if the index is inconsistent
        cursor.execute(
            "INSERT INTO evidence_search_v3_fts (evidence_search_v3_fts) VALUES ('integrity-check')"
        )
        cursor.execute("SELECT count(*) FROM evidence_search_v3_fts_docsize")
        assert cursor.fetchone() == (1,)  # the approved row, once
    store.close()


def test_a_rebuild_builds_without_indexes_and_switches_to_an_indexed_version(
    log: FakeLog, store_with_v3: SqlProjectionStore
) -> None:
    store = store_with_v3
    log.append(opened("c1"))
    log.append(evidence_submitted("c1", "e1", "offshore wire transfer"))
    caught_up_runner(log, store, [SUMMARY, EVIDENCE])
    log.append(opened("c2"))
    indexed_while_built: list[set[str]] = []

    def watch(_: RebuildProgress) -> None:
        indexed_while_built.append(store.indexed("evidence_search_v3"))

    rebuild(log, store, EvidenceSearchV3(), settings=FAST, on_progress=watch)

    assert indexed_while_built
    assert all(found == set() for found in indexed_while_built)
    assert store.active_version(EVIDENCE.name) == 3
    assert "evidence_search_v3_case" in store.indexed("evidence_search_v3")
