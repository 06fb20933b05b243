"""The read store's contract (`ProjectionStore` and `ViewReader`), written once and run against
every backend: an abstract test class here, one small subclass per backend in the `test_*`
modules beside it, saying only how to make the store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import pytest

from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.projections.ports import CheckpointConflict, ParkedEvent, ProjectionBatch
from caseledger.projections.views.case_summary import CaseSummaryProjection
from caseledger.projections.views.evidence_search import EvidenceSearchProjection
from tests.support.rows import changes, evidence_row, summary_row

SUMMARY = CaseSummaryProjection()
EVIDENCE = EvidenceSearchProjection()


class ReadStoreContract(ABC):
    """Every read-store backend passes these tests; a subclass says only how to make a fresh,
    empty store (`connect`)."""

    @abstractmethod
    def connect(self, request: pytest.FixtureRequest) -> Iterator[SqlProjectionStore]:
        """Yield a fresh, empty store of this backend; close it after the yield."""

    @pytest.fixture
    def store(self, request: pytest.FixtureRequest) -> Iterator[SqlProjectionStore]:
        yield from self.connect(request)

    @pytest.fixture
    def prepared(self, store: SqlProjectionStore) -> SqlProjectionStore:
        store.prepare(SUMMARY)
        store.prepare(EVIDENCE)
        store.activate(SUMMARY.name, SUMMARY.version)
        store.activate(EVIDENCE.name, EVIDENCE.version)
        return store

    def test_a_prepared_view_starts_empty_with_no_checkpoint(
        self, prepared: SqlProjectionStore
    ) -> None:
        assert prepared.checkpoint(SUMMARY.id) is None
        assert prepared.as_of(SUMMARY.name) is None
        assert prepared.get(SUMMARY.name, "t1", "c1") is None

    def test_preparing_twice_changes_nothing(self, prepared: SqlProjectionStore) -> None:
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c1")))])
        prepared.prepare(SUMMARY)

        assert prepared.checkpoint(SUMMARY.id) == 100

    def test_rows_revisions_and_checkpoint_commit_together(
        self, prepared: SqlProjectionStore
    ) -> None:
        batch = ProjectionBatch(
            SUMMARY.id, None, 200, changes(summary_row("c1")), {"case-t1_c1": 0}
        )
        prepared.commit([batch])

        assert prepared.checkpoint(SUMMARY.id) == 200
        assert prepared.load_revisions(SUMMARY.id, ["case-t1_c1", "case-zz"]) == {"case-t1_c1": 0}
        row = prepared.get(SUMMARY.name, "t1", "c1")
        assert row is not None
        assert row.document == {"case_id": "c1", "status": "opened"}

    def test_a_batch_built_on_a_stale_checkpoint_is_refused_and_applies_nothing(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c1")))])

        replay = ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c2")))
        with pytest.raises(CheckpointConflict):
            prepared.commit([replay])

        assert prepared.get(SUMMARY.name, "t1", "c2") is None
        assert prepared.checkpoint(SUMMARY.id) == 100

    def test_a_refused_batch_rolls_back_the_other_projections_in_the_same_commit(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c1")))])
        fine = ProjectionBatch(
            EVIDENCE.id, None, 100, changes(evidence_row("c1/e1", "wire", "approved"))
        )
        stale = ProjectionBatch(SUMMARY.id, None, 100, changes())

        with pytest.raises(CheckpointConflict):
            prepared.commit([fine, stale])

        assert prepared.checkpoint(EVIDENCE.id) is None
        assert prepared.load_rows(EVIDENCE.id, ["c1/e1"]) == {}

    def test_a_refused_commit_names_the_projection_whose_checkpoint_moved(
        self, prepared: SqlProjectionStore
    ) -> None:
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c1")))])
        fine = ProjectionBatch(EVIDENCE.id, None, 200, changes())
        stale = ProjectionBatch(SUMMARY.id, None, 200, changes(summary_row("c2")))

        with pytest.raises(CheckpointConflict) as refused:
            prepared.commit([fine, stale])

        assert refused.value.projection_id == SUMMARY.id
        assert prepared.checkpoint(EVIDENCE.id) is None
        assert prepared.checkpoint(SUMMARY.id) == 100
        assert prepared.get(SUMMARY.name, "t1", "c2") is None

    def test_rows_and_revisions_load_many_keys_at_once_and_skip_absent_ones(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        keys = [f"c{i}" for i in range(1_200)]  # more than one chunk of SQLite parameters
        revisions = {f"case-{k}": i for i, k in enumerate(keys[::2])}
        rows = changes(*(summary_row(k) for k in keys[::2]))
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, rows, revisions)])

        loaded = prepared.load_rows(SUMMARY.id, [*keys, "c0", "missing"])
        assert sorted(loaded) == sorted(keys[::2])
        assert loaded["c2"].document == {"case_id": "c2", "status": "opened"}
        streams = [f"case-{k}" for k in keys]
        assert prepared.load_revisions(SUMMARY.id, [*streams, "case-t1_c0"]) == revisions
        assert prepared.load_rows(SUMMARY.id, []) == {}
        assert prepared.load_revisions(SUMMARY.id, []) == {}

    def test_rows_are_tenant_scoped(self, prepared: SqlProjectionStore) -> None:
        rows = changes(summary_row("c1", "t1"), summary_row("c2", "t2"))
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, rows)])

        assert prepared.get(SUMMARY.name, "t2", "c1") is None
        assert [r.key for r in prepared.find(SUMMARY.name, "t2", {}, 10).rows] == ["c2"]

    def test_find_filters_on_columns_and_pages_newest_first(
        self, prepared: SqlProjectionStore
    ) -> None:
        rows = [
            summary_row(f"c{i}", status="opened" if i % 2 else "closed", position=i)
            for i in range(7)
        ]
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 700, changes(*rows))])

        first = prepared.find(SUMMARY.name, "t1", {"status": "opened"}, limit=2)
        second = prepared.find(SUMMARY.name, "t1", {"status": "opened"}, 2, first.next_offset or 0)
        assert [r.key for r in first.rows] == ["c5", "c3"]
        assert [r.key for r in second.rows] == ["c1"]
        assert second.next_offset is None

    def test_removed_rows_are_gone(self, prepared: SqlProjectionStore) -> None:
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c1")))])
        prepared.commit([ProjectionBatch(SUMMARY.id, 100, 200, changes(removals=("c1", "never")))])

        assert prepared.get(SUMMARY.name, "t1", "c1") is None

    def test_search_finds_approved_evidence_only_within_the_tenant(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        rows = changes(
            evidence_row("c1/e1", "offshore wire transfer to a shell company", "approved"),
            evidence_row("c1/e2", "offshore wire rumour", "submitted"),
            evidence_row("c2/e1", "offshore wire transfer", "approved", tenant="t2"),
        )
        prepared.commit([ProjectionBatch(EVIDENCE.id, None, 100, rows)])

        hits = prepared.search(EVIDENCE.name, "t1", "offshore wire", 5)
        assert [h.row.key for h in hits] == ["c1/e1"]

    def test_evidence_leaves_the_search_when_its_approval_is_replaced(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        approved = evidence_row("c1/e1", "offshore wire", "approved")
        prepared.commit([ProjectionBatch(EVIDENCE.id, None, 100, changes(approved))])
        rejected = evidence_row("c1/e1", "offshore wire", "rejected")
        prepared.commit([ProjectionBatch(EVIDENCE.id, 100, 200, changes(rejected))])

        assert prepared.search(EVIDENCE.name, "t1", "offshore", 5) == []

    def test_search_text_cannot_inject_query_syntax(self, prepared: SqlProjectionStore) -> None:
        rows = changes(evidence_row("c1/e1", "offshore wire", "approved"))
        prepared.commit([ProjectionBatch(EVIDENCE.id, None, 100, rows)])

        assert prepared.search(EVIDENCE.name, "t1", 'offshore" (* :', 5)[0].row.key == "c1/e1"
        assert prepared.search(EVIDENCE.name, "t1", "' ; DROP TABLE x; --", 5) == []

    def test_parked_events_are_visible_and_resolved_once_applied(
        self, prepared: SqlProjectionStore
    ) -> None:
        parked = ParkedEvent(SUMMARY.id, 100, "ev-1", "case-t1_c1", 0, "case.opened", "boom", 3)
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, parked=[parked])])

        assert prepared.parked(SUMMARY.id) == [parked]
        assert [s.parked for s in prepared.states() if s.name == SUMMARY.name] == [1]
        prepared.resolve_parked(
            SUMMARY.id, 100, changes(summary_row("c1")), {"case-t1_c1": 0}, ["ev-1"]
        )
        assert prepared.parked(SUMMARY.id) == []
        assert prepared.get(SUMMARY.name, "t1", "c1") is not None

    def test_a_retry_refuses_a_moved_checkpoint_and_refuses_batches_built_before_it(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        parked = ParkedEvent(SUMMARY.id, 100, "ev-1", "case-t1_c1", 0, "case.opened", "boom", 3)
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, parked=[parked])])
        built_before = ProjectionBatch(
            SUMMARY.id, 100, 200, generation=prepared.generation(SUMMARY.id)
        )

        with pytest.raises(CheckpointConflict):
            prepared.resolve_parked(SUMMARY.id, 50, changes(summary_row("c1")), {}, ["ev-1"])
        prepared.resolve_parked(
            SUMMARY.id, 100, changes(summary_row("c1")), {"case-t1_c1": 0}, ["ev-1"]
        )

        with pytest.raises(CheckpointConflict):
            prepared.commit([built_before])
        assert prepared.checkpoint(SUMMARY.id) == 100
        rebuilt = ProjectionBatch(SUMMARY.id, 100, 200, generation=prepared.generation(SUMMARY.id))
        prepared.commit([rebuilt])
        assert prepared.checkpoint(SUMMARY.id) == 200

    def test_the_first_parked_event_of_a_stream_is_the_lowest_revision(
        self,
        prepared: SqlProjectionStore,
    ) -> None:
        later = ParkedEvent(SUMMARY.id, 300, "ev-3", "case-t1_c1", 2, "case.closed", "waiting", 0)
        first = ParkedEvent(
            SUMMARY.id, 200, "ev-2", "case-t1_c1", 1, "case.review_started", "boom", 3
        )
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 300, parked=[later, first])])

        assert prepared.first_parked(SUMMARY.id, "case-t1_c1") == first
        assert prepared.first_parked(SUMMARY.id, "case-t1_c2") is None

    def test_activating_a_version_switches_what_readers_see(
        self, prepared: SqlProjectionStore
    ) -> None:
        prepared.commit([ProjectionBatch(SUMMARY.id, None, 100, changes(summary_row("c1")))])

        assert prepared.active_version(SUMMARY.name) == 1
        assert prepared.as_of(SUMMARY.name) == 100
        assert [s.active for s in prepared.states() if s.name == SUMMARY.name] == [True]
