"""Blue/green rebuilds: a new version is built beside the serving one from the start of
`$all`, then switched to atomically; a replay writes nothing but the new version's rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.events import ProjectedEvent
from caseledger.projections.projection import RowLookup
from caseledger.projections.rebuild import RebuildProgress, activate_unserved, rebuild
from caseledger.projections.rows import Put, Row, RowChange
from caseledger.projections.runner import ProjectionRunner
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.facts import FakeLog, opened, review_started
from tests.support.runners import FAST, caught_up_runner, dump, eventually


class CaseSummaryV2(CaseSummaryProjection):
    """A new version whose rows say so."""

    version: ClassVar[int] = 2

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        changes = []
        for change in super().apply(event, rows):
            if isinstance(change, Put):
                doc = {**change.row.document, "shape": "v2"}
                row = change.row
                change = Put(Row(row.key, row.tenant_id, row.columns, doc, row.position))
            changes.append(change)
        return changes


class StoreWithV2(SqliteProjectionStore):
    """The v2 migration a real new version would ship as `case_summary_v2.sql`."""

    def _migration(self, name: str) -> str:
        if name == "case_summary_v2":
            return super()._migration("case_summary_v1").replace("_v1", "_v2")
        return super()._migration(name)


def test_a_new_version_is_built_beside_the_serving_one_then_switched_atomically(
    log: FakeLog, tmp_path: Path
) -> None:
    store = StoreWithV2(tmp_path / "rm.db")
    log.append(opened("c1"))
    caught_up_runner(log, store, [CaseSummaryProjection()])
    log.append(review_started("c1"))
    served_during_build: list[int | None] = []
    events_before = list(log.events)

    def watch(_: RebuildProgress) -> None:
        served_during_build.append(store.active_version("case_summary"))

    def switching() -> None:  # told before the switch, once the build is complete
        served_during_build.append(store.active_version("case_summary"))

    rebuild(log, store, CaseSummaryV2(), settings=FAST, on_progress=watch, on_switch=switching)

    assert set(served_during_build) == {1}
    assert len(served_during_build) >= 2
    assert store.active_version("case_summary") == 2
    row = store.get("case_summary", "t1", "t1_c1")
    assert row is not None
    assert (row.document["shape"], row.document["status"]) == ("v2", "under_review")
    assert store.load_rows("case_summary_v1", ["t1_c1"])["t1_c1"].document.get("shape") is None
    assert log.events == events_before


def test_the_serving_version_is_rebuilt_in_place_and_a_live_runner_follows_the_switch(
    log: FakeLog, tmp_path: Path
) -> None:
    store = SqliteProjectionStore(tmp_path / "rm.db")
    fresh = SqliteProjectionStore(tmp_path / "fresh.db")
    summary = CaseSummaryProjection()
    log.append(opened("c1"), opened("c2"))
    serving = ProjectionRunner(log, store, [summary], FAST)
    activate_unserved(store, [summary])
    serving.start()
    try:
        assert serving.wait_until(log.head_position(), 30)

        built, _ = rebuild(log, store, summary, settings=FAST)

        assert built.id == "case_summary_v1_g2"
        assert store.serving_generation("case_summary", 1) == 2
        log.append(review_started("c1"), opened("c3"))  # the serving runner follows the switch
        assert eventually(lambda: store.checkpoint(built.id) == log.head_position())
        assert serving.wait_until(log.head_position(), 30)
    finally:
        serving.stop()
    row = store.get("case_summary", "t1", "t1_c1")
    assert row is not None
    assert row.document["status"] == "under_review"
    old = store.load_rows("case_summary_v1", ["t1_c3"])
    assert old.get("t1_c3") is None  # nothing is written to the retired generation
    caught_up_runner(log, fresh, [summary])
    assert (
        dump(store, [built])["case_summary_v1_g2"]["rows"]
        == (dump(fresh, [summary])["case_summary_v1"]["rows"])
    )
    again, _ = rebuild(log, store, summary, settings=FAST)  # and again: the next generation
    assert again.id == "case_summary_v1_g3"
    store.close()
    fresh.close()
