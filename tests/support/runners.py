"""Helpers for runner tests: a runner over a fake `$all`, view dumps, and stores that fail."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from caseledger.projections.ports import EventFeed, ProjectionBatch
from caseledger.projections.projection import Projection
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.retry import NO_WAIT
from caseledger.projections.runner import ProjectionRunner, RunnerSettings

FAST = RunnerSettings(batch_size=50, retry=NO_WAIT)


def caught_up_runner(
    feed: EventFeed,
    store: SqlProjectionStore,
    projections: Sequence[Projection] | None = None,
    settings: RunnerSettings = FAST,
) -> ProjectionRunner:
    """A runner that has read everything there is, then stopped."""
    chosen = list(projections or all_projections())
    runner = ProjectionRunner(feed, store, chosen, settings, sleep=lambda _: None)
    activate_unserved(store, chosen)
    assert runner.run_until_caught_up(timeout=30)
    return runner


def dump(
    store: SqlProjectionStore, projections: Sequence[Projection] | None = None
) -> dict[str, Any]:
    """Every row of every view, and each view's checkpoint: what "equal views" means."""
    views: dict[str, Any] = {}
    for projection in projections or all_projections():
        page = store.find(projection.name, "t1", {}, limit=10_000)
        other = store.find(projection.name, "t2", {}, limit=10_000)
        views[projection.id] = {
            "rows": sorted((r.key, r.tenant_id, dict(r.document)) for r in page.rows + other.rows),
            "checkpoint": store.checkpoint(projection.id),
        }
    return views


class FailingStore(SqliteProjectionStore):
    """Refuses commits while `failing(batches)` says so (counting every attempt)."""

    def __init__(self, path: Path, failing: Callable[[Sequence[ProjectionBatch]], bool]) -> None:
        super().__init__(path)
        self.failing = failing
        self.attempts = 0

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        self.attempts += 1
        if self.failing(batches):
            raise OSError("disk I/O error (simulated)")
        super().commit(batches)


def eventually(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """True once `condition()` holds (polled); False after a generous `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
