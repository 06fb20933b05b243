"""While catching up into a store whose commits run outside the interpreter (PostgreSQL), the
runner builds a batch while the store commits the one before: the views must come out exactly
as if every batch had been committed one at a time. SQLite stores stand in for such a store
here (`commits_off_the_interpreter = True`), with commits slowed, held or failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.ports import ProjectionBatch
from caseledger.projections.retry import NO_WAIT
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.facts import (
    FakeLog,
    evidence_reviewed,
    evidence_submitted,
    opened,
    review_started,
    risk_proposed,
)
from tests.support.runners import FailingStore, caught_up_runner, dump

SUMMARY = CaseSummaryProjection()
SMALL = RunnerSettings(batch_size=3, cache_size=1, retry=NO_WAIT)
ONE_AT_A_TIME = RunnerSettings(batch_size=3, cache_size=1, retry=NO_WAIT, overlap_commits=False)


def interleaved_cases(log: FakeLog, cases: int = 2) -> None:
    """Each case's events spread over many small batches, each batch reading what the one
    before it wrote."""
    ids = [f"c{i}" for i in range(cases)]
    log.append(*(opened(c) for c in ids))
    log.append(*(review_started(c) for c in ids))
    for n in range(3):
        log.append(*(evidence_submitted(c, f"e{n}", f"wire {n}") for c in ids))
        log.append(*(evidence_reviewed(c, f"e{n}", approve=n % 2 == 0) for c in ids))
    log.append(*(risk_proposed(c, "p1") for c in ids))


class OverlappingFailingStore(FailingStore):
    commits_off_the_interpreter = True


class SlowStore(SqliteProjectionStore):
    """Commits take a while, so the next batch is always built while one is in flight."""

    commits_off_the_interpreter = True

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        time.sleep(0.01)
        super().commit(batches)


def test_overlapped_commits_leave_the_views_a_one_at_a_time_replay_leaves(
    log: FakeLog, tmp_path: Path
) -> None:
    interleaved_cases(log)
    overlapped = SlowStore(tmp_path / "overlapped.db")
    one_at_a_time = SqliteProjectionStore(tmp_path / "one.db")

    caught_up_runner(log, overlapped, settings=SMALL)
    caught_up_runner(log, one_at_a_time, settings=ONE_AT_A_TIME)

    assert dump(overlapped) == dump(one_at_a_time)
    assert all(overlapped.parked(p) == [] for p in dump(overlapped))


def test_a_batch_built_on_a_commit_that_fails_is_rebuilt_and_lands_once(
    log: FakeLog, tmp_path: Path
) -> None:
    interleaved_cases(log)
    attempts = iter(range(100))
    store = OverlappingFailingStore(tmp_path / "rm.db", lambda _: next(attempts) in (2, 5, 6))
    clean = SqliteProjectionStore(tmp_path / "clean.db")

    caught_up_runner(log, store, settings=SMALL)
    caught_up_runner(log, clean, settings=ONE_AT_A_TIME)

    assert dump(store) == dump(clean)
    assert all(store.parked(p) == [] for p in dump(store))


class HeldStore(SqliteProjectionStore):
    """Commits wait until the test lets them through."""

    commits_off_the_interpreter = True

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.release = threading.Event()

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        assert self.release.wait(10)
        super().commit(batches)


def test_readers_see_a_batch_only_once_its_commit_is_done(log: FakeLog, tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "rm.db")
    position = log.append(opened("c1"), review_started("c1"))
    runner = ProjectionRunner(log, store, [SUMMARY], SMALL)
    runner.start()
    try:
        assert not runner.wait_until(position, timeout=0.3)
        assert runner.status().positions[SUMMARY.id] is None

        store.release.set()

        assert runner.wait_until(position, timeout=10)
        assert store.checkpoint(SUMMARY.id) == position
    finally:
        store.release.set()
        runner.stop()
