"""Order under parking: a parked event holds the later events of its stream behind it (parked
with it, marked as waiting on it) while other streams go on; a retry re-applies the stream in
revision order, so the view ends as a replay does and never goes backwards. Unknown types of a
followed category are parked, never skipped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.domain.application.aggregates import CASE
from caseledger.projections.events import ProjectedEvent
from caseledger.projections.parking import retry_parked
from caseledger.projections.projection import RowLookup, tenant_key
from caseledger.projections.rows import RowChange
from caseledger.projections.runner import ProjectionRunner
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.facts import (
    Fact,
    FakeLog,
    closed,
    evidence_submitted,
    opened,
    review_started,
)
from tests.support.runners import FAST, caught_up_runner, dump, eventually

SUMMARY = CaseSummaryProjection()
C1, C2 = CASE.stream("t1", "c1"), CASE.stream("t1", "c2")


class BrokenReviewStart(CaseSummaryProjection):
    """A projection bug on `case.review_started` until it is fixed."""

    broken = True

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        if BrokenReviewStart.broken and event.type == "case.review_started":
            raise ValueError("cannot project a review start")
        return super().apply(event, rows)


@pytest.fixture(autouse=True)
def broken() -> None:
    BrokenReviewStart.broken = True


def status_of(store: SqliteProjectionStore, case_id: str) -> str:
    row = store.get(SUMMARY.name, "t1", tenant_key("t1", case_id))
    assert row is not None
    return str(row.document["status"])


def history(log: FakeLog) -> None:
    log.append(opened("c1"), opened("c2"), review_started("c1"), review_started("c2"))
    log.append(evidence_submitted("c1", "e1", "wire"), closed("c1"), closed("c2"))


def test_the_later_events_of_a_parked_stream_wait_behind_it_while_other_streams_go_on(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    history(log)

    caught_up_runner(log, sqlite_store, [BrokenReviewStart()])

    parked = sqlite_store.parked(SUMMARY.id)
    assert [(p.stream, p.revision, p.event_type) for p in parked] == [
        (C1, 1, "case.review_started"),
        (C2, 1, "case.review_started"),
        (C1, 2, "case.evidence_submitted"),
        (C1, 3, "case.closed"),
        (C2, 2, "case.closed"),
    ]
    assert [p.waiting_on for p in parked] == [None, None, f"{C1}@1", f"{C1}@1", f"{C2}@1"]
    assert "ValueError: cannot project a review start" in parked[0].reason
    assert status_of(sqlite_store, "c1") == "opened"  # nothing after the parked event applied
    assert sqlite_store.load_revisions(SUMMARY.id, [C1]) == {C1: 0}
    assert sqlite_store.checkpoint(SUMMARY.id) == log.head_position()


def test_a_retried_stream_is_applied_in_revision_order_and_ends_as_a_replay_does(
    log: FakeLog, sqlite_store: SqliteProjectionStore, tmp_path: Path
) -> None:
    history(log)
    caught_up_runner(log, sqlite_store, [BrokenReviewStart()])
    BrokenReviewStart.broken = False

    report = retry_parked(log, sqlite_store, SUMMARY, C1)

    assert (report.resolved, report.still_parked) == (3, 0)
    assert status_of(sqlite_store, "c1") == "closed"  # closed after under_review, not before
    assert status_of(sqlite_store, "c2") == "opened"  # another stream: still parked, untouched
    retry_parked(log, sqlite_store, SUMMARY)
    replay = SqliteProjectionStore(tmp_path / "replay.db")
    caught_up_runner(log, replay, [SUMMARY])
    assert dump(sqlite_store, [SUMMARY]) == dump(replay, [SUMMARY])
    assert sqlite_store.parked(SUMMARY.id) == []


def test_a_retry_that_fails_again_keeps_the_stream_behind_the_failing_event(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    history(log)
    caught_up_runner(log, sqlite_store, [BrokenReviewStart()])

    report = retry_parked(log, sqlite_store, BrokenReviewStart(), C1)

    assert (report.resolved, report.still_parked) == (0, 3)
    first, *behind = [p for p in sqlite_store.parked(SUMMARY.id) if p.stream == C1]
    assert first.attempts == FAST.retry.attempts + 1
    assert [p.waiting_on for p in behind] == [f"{C1}@1", f"{C1}@1"]
    assert status_of(sqlite_store, "c1") == "opened"


def test_events_arriving_after_a_retry_apply_in_order_in_a_running_runner(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c1"), review_started("c1"))
    caught_up_runner(log, sqlite_store, [BrokenReviewStart()])
    runner = ProjectionRunner(log, sqlite_store, [SUMMARY], FAST)
    runner.start()
    try:
        log.append(evidence_submitted("c1", "e1", "wire"))
        assert runner.wait_until(log.head_position(), timeout=30)
        assert len(sqlite_store.parked(SUMMARY.id)) == 2  # the new event waits behind, too
        BrokenReviewStart.broken = False
        runner.request_retry()
        position = log.append(closed("c1"))
        assert runner.wait_until(position, timeout=30)
        assert eventually(lambda: sqlite_store.parked(SUMMARY.id) == [])
    finally:
        runner.stop()
    assert status_of(sqlite_store, "c1") == "closed"
    row = sqlite_store.get(SUMMARY.name, "t1", tenant_key("t1", "c1"))
    assert row is not None
    assert row.document["evidence_count"] == 1


def test_an_unknown_type_of_a_followed_category_is_parked_never_skipped(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c1"), Fact(C1, "case.reopened", {"case_id": "c1"}), closed("c1"))

    caught_up_runner(log, sqlite_store, [SUMMARY])

    unknown, waiting = sqlite_store.parked(SUMMARY.id)
    assert unknown.event_type == "case.reopened"
    assert "unknown event type 'case.reopened'" in unknown.reason
    assert waiting.waiting_on == f"{C1}@1"
    assert status_of(sqlite_store, "c1") == "opened"


def test_a_retry_from_another_process_makes_a_running_runner_rebuild_its_batch(
    log: FakeLog, sqlite_store: SqliteProjectionStore, tmp_path: Path
) -> None:
    runner = ProjectionRunner(log, sqlite_store, [BrokenReviewStart()], FAST)
    sqlite_store.activate(SUMMARY.name, SUMMARY.version)
    runner.start()
    try:
        log.append(opened("c1"))  # the runner caches c1's row and revision
        waiting = log.append(review_started("c1"), evidence_submitted("c1", "e1", "wire"))
        assert runner.wait_until(waiting, timeout=30)
        as_the_cli = SqliteProjectionStore(tmp_path / "readmodels.db")
        as_the_cli.prepare(SUMMARY)
        report = retry_parked(log, as_the_cli, SUMMARY)
        as_the_cli.close()
        assert (report.resolved, report.still_parked) == (2, 0)
        position = log.append(closed("c1"))  # the runner's cache still has c1 at revision 0
        assert runner.wait_until(position, timeout=30)
    finally:
        runner.stop()
    replay = SqliteProjectionStore(tmp_path / "replay.db")
    caught_up_runner(log, replay, [SUMMARY])
    assert dump(sqlite_store, [SUMMARY]) == dump(replay, [SUMMARY])
    assert sqlite_store.parked(SUMMARY.id) == []
