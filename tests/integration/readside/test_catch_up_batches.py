"""While catching up, a batch waits up to `catch_up_linger` for events to fill it, and the
runner looks at what the reader has read ahead rather than waiting on it: the reader's puts then
wake no one (a thread switch per event was ~10% of the interpreter's time in a rebuild). Once
caught up, `live_interval` paces the batches: a lone event commits at once, the events that
follow it within the interval share the next commit."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.ports import Checkpoint, ProjectionBatch
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.retry import NO_WAIT
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.facts import FakeLog, FakeSubscription, opened
from tests.support.runners import eventually

SUMMARY = CaseSummaryProjection()
LINGERING = RunnerSettings(batch_size=100, catch_up_linger=0.5, retry=NO_WAIT)


class TricklingSubscription(FakeSubscription):
    """Hands events over a few milliseconds apart."""

    def __init__(self, inner: FakeSubscription) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        for index, event in enumerate(self._inner):
            if index:
                time.sleep(0.003)
            yield event

    def stop(self) -> None:
        self._inner.stop()


class TricklingLog(FakeLog):
    def follow_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> TricklingSubscription:
        return TricklingSubscription(super().follow_all(from_position, categories))


class CountingStore(SqliteProjectionStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.commits = 0

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        self.commits += 1
        super().commit(batches)


def test_a_lingering_catch_up_batch_takes_the_trickling_events_and_no_put_wakes_the_runner(
    tmp_path: Path,
) -> None:
    log = TricklingLog()
    log.append(*(opened(f"c{i}") for i in range(30)))
    store = CountingStore(tmp_path / "rm.db")
    runner = ProjectionRunner(log, store, [SUMMARY], LINGERING)
    activate_unserved(store, [SUMMARY])

    assert runner.run_until_caught_up(timeout=10)

    assert store.commits == 1
    assert store.checkpoint(SUMMARY.id) == log.head_position()
    assert runner._read_ahead.wakeups <= 1  # at most for the first event: none while lingering
    store.close()


def test_a_live_event_after_a_quiet_spell_commits_at_once(tmp_path: Path) -> None:
    log = FakeLog()
    log.append(opened("c0"))
    store = CountingStore(tmp_path / "rm.db")
    runner = ProjectionRunner(log, store, [SUMMARY], RunnerSettings(live_interval=600.0))
    activate_unserved(store, [SUMMARY])
    runner.start()
    try:
        assert runner.wait_until(log.head_position(), timeout=30)

        position = log.append(opened("c1"))

        assert runner.wait_until(position, timeout=30)  # not after the interval's 600 s
    finally:
        runner.stop()
        store.close()


def test_live_events_within_the_interval_of_the_last_batch_share_one_commit(
    tmp_path: Path,
) -> None:
    """c1 is a live batch of its own (the runner had caught up before it was appended: an
    event appended while catching up joins the catch-up's batch, and then the first live
    event after it is the lone one that commits at once). c2 follows within the interval, so
    it is held — it does not commit alone — until c3 joins it and fills the batch (a batch
    closes at the end of the interval or when full, whichever comes first: the interval is
    long, so no load on the machine can end it before c3 arrives)."""
    log = FakeLog()
    log.append(opened("c0"))
    store = CountingStore(tmp_path / "rm.db")
    runner = ProjectionRunner(
        log, store, [SUMMARY], RunnerSettings(batch_size=2, live_interval=600.0)
    )
    activate_unserved(store, [SUMMARY])
    runner.start()
    try:
        assert eventually(lambda: runner.status().caught_up, 30)
        assert runner.wait_until(log.append(opened("c1")), timeout=30)
        commits = store.commits

        held = log.append(opened("c2"))
        assert not runner.wait_until(held, timeout=0.5)  # held for the interval, not committed
        position = log.append(opened("c3"))

        assert runner.wait_until(position, timeout=30)
        assert store.commits == commits + 1
        assert store.checkpoint(SUMMARY.id) == position
    finally:
        runner.stop()
        store.close()
