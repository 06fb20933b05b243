"""The projection runner over a fake `$all` into SQLite: exactly-once effect, ordering,
poison events, failing stores, restarts, read-your-writes and shutdown (seed §19, §20, §27)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.events import ProjectedEvent
from caseledger.projections.ports import ProjectionBatch
from caseledger.projections.projection import RowLookup
from caseledger.projections.rows import RowChange
from caseledger.projections.runner import ProjectionRunner
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.facts import (
    FakeLog,
    approval_requested,
    drafted,
    evidence_reviewed,
    evidence_submitted,
    opened,
    policy_published,
    review_started,
    risk_proposed,
)
from tests.support.runners import FAST, FailingStore, caught_up_runner, dump

SUMMARY = CaseSummaryProjection()


def history(log: FakeLog, cases: int = 20) -> None:
    for i in range(cases):
        tenant = "t1" if i % 3 else "t2"
        log.append(
            opened(f"c{i}", tenant),
            review_started(f"c{i}", tenant),
            evidence_submitted(f"c{i}", "e1", f"wire transfer {i}", tenant),
            evidence_reviewed(f"c{i}", "e1", approve=i % 2 == 0, tenant=tenant),
        )
    log.append(risk_proposed("c1", "p1"), drafted("n1", "c1"), approval_requested("n1", "c1"))
    log.append(policy_published("t1", "p2", {"min_escalation_evidence": 2}))


def evidence_count(store: SqliteProjectionStore, case_id: str) -> int:
    row = store.get(SUMMARY.name, "t1", f"t1_{case_id}")
    assert row is not None
    return int(row.document["evidence_count"])


class PoisonedSummary(CaseSummaryProjection):
    """Fails on every event of case `c-poison`, like a projection bug would."""

    calls = 0

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        if event.stream == "case-t1_c-poison":
            PoisonedSummary.calls += 1
            raise ValueError("cannot project this")
        return super().apply(event, rows)


def test_event_replay_reconstructs_expected_state(log: FakeLog, tmp_path: Path) -> None:
    history(log)
    first, second = (
        SqliteProjectionStore(tmp_path / "a.db"),
        SqliteProjectionStore(tmp_path / "b.db"),
    )

    caught_up_runner(log, first)
    caught_up_runner(log, second)

    assert dump(first) == dump(second)
    assert evidence_count(first, "c1") == 1
    assert dump(first)["case_summary_v1"]["checkpoint"] == log.head_position()


def test_duplicate_delivery_has_no_second_effect(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c1"), evidence_submitted("c1", "e1", "wire"))
    log.redeliver(log.events[-1])  # the same event again, same position
    log.record(evidence_submitted("c1", "e1", "wire"), revision=1)  # same revision, later position

    runner = caught_up_runner(log, sqlite_store, [SUMMARY])

    assert evidence_count(sqlite_store, "c1") == 1
    assert runner.status().stats[SUMMARY.id].duplicates == 2
    assert sqlite_store.parked(SUMMARY.id) == []


def test_out_of_order_event_is_detected_and_parked_never_applied(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c1"))
    log.record(evidence_submitted("c1", "e2", "memo"), revision=2)  # revision 1 never came

    runner = caught_up_runner(log, sqlite_store, [SUMMARY])

    (parked,) = sqlite_store.parked(SUMMARY.id)
    assert (parked.revision, parked.reason) == (2, "revision gap in case-t1_c1: expected 1, got 2")
    assert evidence_count(sqlite_store, "c1") == 0
    assert runner.status().stats[SUMMARY.id].gaps == 1
    assert sqlite_store.checkpoint(SUMMARY.id) == log.head_position()


def test_a_poison_event_is_retried_then_parked_and_the_runner_moves_on(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    PoisonedSummary.calls = 0
    log.append(opened("c-poison"), opened("c1"), evidence_submitted("c1", "e1", "wire"))

    caught_up_runner(log, sqlite_store, [PoisonedSummary()])

    (parked,) = sqlite_store.parked(SUMMARY.id)
    assert parked.stream == "case-t1_c-poison"
    assert "ValueError: cannot project this" in parked.reason
    assert PoisonedSummary.calls == FAST.retry.attempts
    assert evidence_count(sqlite_store, "c1") == 1


def test_a_parked_event_is_applied_when_retried_after_the_fix(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c-poison"), opened("c1"))
    caught_up_runner(log, sqlite_store, [PoisonedSummary()])
    assert len(sqlite_store.parked(SUMMARY.id)) == 1

    fixed = ProjectionRunner(log, sqlite_store, [SUMMARY], FAST)
    fixed.request_retry()
    assert fixed.run_until_caught_up(timeout=30)

    assert sqlite_store.parked(SUMMARY.id) == []
    assert sqlite_store.get(SUMMARY.name, "t1", "t1_c-poison") is not None


def test_a_failing_store_is_retried_and_every_event_lands_once(
    log: FakeLog, tmp_path: Path
) -> None:
    history(log, cases=5)
    failures = iter(range(2))
    store = FailingStore(tmp_path / "rm.db", lambda _: next(failures, None) is not None)

    caught_up_runner(log, store)

    assert store.attempts > 2
    assert dump(store) == dump(_clean_replay(log, tmp_path))
    assert all(store.parked(p) == [] for p in dump(store))


def test_a_batch_that_cannot_be_stored_parks_only_the_event_that_breaks_it(
    log: FakeLog, tmp_path: Path
) -> None:
    log.append(opened("c1"), opened("c-unstorable"), opened("c2"))

    def refuses_the_bad_row(batches: Sequence[ProjectionBatch]) -> bool:
        return any("t1_c-unstorable" in b.changes.rows for b in batches)

    store = FailingStore(tmp_path / "rm.db", refuses_the_bad_row)
    caught_up_runner(log, store, [SUMMARY])

    (parked,) = store.parked(SUMMARY.id)
    assert parked.stream == "case-t1_c-unstorable"
    assert parked.reason.startswith("could not be stored: commit failed: OSError")
    assert [store.get(SUMMARY.name, "t1", c) is not None for c in ("t1_c1", "t1_c2")] == [
        True,
        True,
    ]


def test_a_restarted_runner_resumes_from_its_checkpoint(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c1"), evidence_submitted("c1", "e1", "wire"))
    caught_up_runner(log, sqlite_store, [SUMMARY])
    log.append(evidence_submitted("c1", "e2", "memo"))

    again = caught_up_runner(log, sqlite_store, [SUMMARY])

    assert again.status().stats[SUMMARY.id].applied == 1
    assert evidence_count(sqlite_store, "c1") == 2


def test_wait_until_answers_once_a_written_position_is_visible(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    runner = ProjectionRunner(log, sqlite_store, [SUMMARY], FAST)
    sqlite_store.activate(SUMMARY.name, SUMMARY.version)
    runner.start()
    try:
        position = log.append(opened("c1"))
        assert runner.wait_until(position, timeout=10)
        assert sqlite_store.get(SUMMARY.name, "t1", "t1_c1") is not None
        assert not runner.wait_until(position + 1, timeout=0.05)
    finally:
        runner.stop()


def test_stop_ends_the_runner_with_every_taken_event_committed(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    runner = ProjectionRunner(log, sqlite_store, [SUMMARY], FAST)
    runner.start()
    position = log.append(opened("c1"), review_started("c1"))
    assert runner.wait_until(position, timeout=10)

    runner.stop(timeout=5)

    assert runner.status().state == "stopped"
    assert sqlite_store.checkpoint(SUMMARY.id) == position


def _clean_replay(log: FakeLog, tmp_path: Path) -> SqliteProjectionStore:
    clean = SqliteProjectionStore(tmp_path / "clean.db")
    caught_up_runner(log, clean)
    return clean
