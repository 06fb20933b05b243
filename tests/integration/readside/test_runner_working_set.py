"""The runner's working set: what it keeps in memory stays bounded however many streams the log
has (revisions live in the store, not in the runner), and a batch loads the rows and revisions
it reads in one query per view, not one per key. Run against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from caseledger.projections.ports import ProjectionBatch
from caseledger.projections.projection import Projection
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.rows import Row
from caseledger.projections.runner import ProjectionRunner
from tests.support.facts import (
    FakeLog,
    approval_requested,
    drafted,
    evidence_reviewed,
    evidence_submitted,
    opened,
    policy_published,
    proposal_reevaluated,
    review_started,
    risk_proposed,
)
from tests.support.runners import FAST, caught_up_runner, dump

TINY_CACHE = replace(FAST, cache_size=4, batch_size=40)


class CountingStore:
    """A projection store that counts the lookups and commits the runner asks of it."""

    def __init__(self, inner: SqlProjectionStore) -> None:
        self.inner = inner
        self.lookups: list[tuple[str, int]] = []
        self.commits = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def load_rows(self, projection_id: str, keys: Sequence[str]) -> dict[str, Row]:
        self.lookups.append(("rows", len(keys)))
        return self.inner.load_rows(projection_id, keys)

    def load_revisions(self, projection_id: str, streams: Sequence[str]) -> dict[str, int]:
        self.lookups.append(("revisions", len(streams)))
        return self.inner.load_revisions(projection_id, streams)

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        self.commits += 1
        self.inner.commit(batches)


def many_cases(log: FakeLog, start: int, cases: int) -> None:
    for i in range(start, start + cases):
        tenant = "t1" if i % 3 else "t2"
        log.append(
            opened(f"c{i}", tenant),
            review_started(f"c{i}", tenant),
            evidence_submitted(f"c{i}", "e1", f"wire transfer {i}", tenant),
        )


def more_for_every_case(log: FakeLog, cases: int) -> None:
    for i in range(cases):
        tenant = "t1" if i % 3 else "t2"
        log.append(evidence_reviewed(f"c{i}", "e1", approve=i % 2 == 0, tenant=tenant))
    log.append(risk_proposed("c1", "p1"), proposal_reevaluated("c1", "p1", "apr-1", "apr-9"))
    log.append(drafted("n1", "c1"), approval_requested("n1", "c1"))
    log.append(policy_published("t1", "p2", {}), policy_published("t1", "p3", {}))


def runner_over(log: FakeLog, store: object, projections: Sequence[Projection]) -> ProjectionRunner:
    runner = ProjectionRunner(log, store, projections, TINY_CACHE, sleep=lambda _: None)  # type: ignore[arg-type]
    activate_unserved(store, projections)  # type: ignore[arg-type]
    assert runner.run_until_caught_up(timeout=60)
    return runner


def test_the_runner_keeps_a_bounded_working_set_however_many_streams(
    log: FakeLog, store: SqlProjectionStore
) -> None:
    projections = all_projections()
    many_cases(log, 0, 150)
    first = runner_over(log, store, projections)
    more_for_every_case(log, 150)

    again = runner_over(log, store, projections)

    bound = 2 * TINY_CACHE.cache_size
    assert all(held <= bound for held in first.status().held.values())
    assert all(held <= bound for held in again.status().held.values())
    streams = {f"case-{'t1' if i % 3 else 't2'}_c{i}": i for i in range(150)}
    stored = store.load_revisions("case_summary_v1", list(streams))
    assert stored == {s: 5 if i == 1 else 3 for s, i in streams.items()}


def test_a_view_built_with_a_tiny_cache_equals_a_clean_replay(
    log: FakeLog, store: SqlProjectionStore, tmp_path: Path
) -> None:
    projections = all_projections()
    many_cases(log, 0, 60)
    runner_over(log, store, projections)
    more_for_every_case(log, 60)
    again = runner_over(log, store, projections)

    clean = SqliteProjectionStore(tmp_path / "clean.db")
    caught_up_runner(log, clean)

    assert dump(store) == dump(clean)
    assert all(store.parked(p.id) == [] for p in projections)
    assert all(s.gaps == 0 and s.parked == 0 for s in again.status().stats.values())


def test_a_batch_loads_its_rows_and_revisions_in_one_query_per_view(
    log: FakeLog, store: SqlProjectionStore
) -> None:
    projections = all_projections()
    many_cases(log, 0, 60)
    runner_over(log, store, projections)
    more_for_every_case(log, 60)
    counting = CountingStore(store)

    again = runner_over(log, counting, projections)

    assert counting.commits > 0
    assert len(counting.lookups) <= 2 * len(projections) * counting.commits
    assert max(size for kind, size in counting.lookups if kind == "revisions") > 1
    assert max(size for kind, size in counting.lookups if kind == "rows") > 1
    total = sum(s.lookups for s in again.status().stats.values())
    assert total == len(counting.lookups)
