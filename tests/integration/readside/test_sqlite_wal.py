"""SQLite's WAL is checkpointed by the store's background thread, never inside a runner's
commit (a checkpoint in the committing thread was the tail of the live lag)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.ports import ProjectionBatch
from caseledger.projections.rows import Put, Row, ViewChanges
from caseledger.projections.views.case_summary import CaseSummaryProjection

SUMMARY = CaseSummaryProjection()
AUTO_CHECKPOINT_PAGES = 1000
"""SQLite's default: a commit that leaves the WAL longer than this checkpoints it."""


def commit_rows(store: SqliteProjectionStore, batches: int) -> None:
    position = None
    for b in range(batches):
        view = ViewChanges()
        for i in range(100):
            document = {"case_id": f"c{b}-{i}", "padding": "x" * 1000}
            view.record(Put(Row(f"c{b}-{i}", "t1", {}, document, b + 1)))
        store.commit([ProjectionBatch(SUMMARY.id, position, b + 1, view)])
        position = b + 1


def wal_frames(path: Path) -> int:
    """Frames in the WAL since it was last reset (a passive checkpoint does not reset it)."""
    with sqlite3.connect(path) as probe:
        _, frames, _ = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames)


def test_commits_leave_the_wal_to_the_background_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "rm.db"
    store = SqliteProjectionStore(path, checkpoint_interval=3600)
    store.prepare(SUMMARY)

    commit_rows(store, 60)

    assert wal_frames(path) > AUTO_CHECKPOINT_PAGES
    store.close()


def test_closing_the_store_checkpoints_the_wal(tmp_path: Path) -> None:
    store = SqliteProjectionStore(tmp_path / "rm.db", checkpoint_interval=3600)
    store.prepare(SUMMARY)
    commit_rows(store, 2)

    store.close()

    assert store.wal_checkpoints == 1
