"""Caught up means caught up: the KurrentDB adapter passes the server's checkpoints through, so
a long run of events the views do not follow moves their checkpoint; a rebuild beside a serving
view switches only once its checkpoint reached `$all`'s head as it was when the rebuild began.
And read-your-writes at the edges: a position beyond the head, an aggregate not yet in view."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.ports import ANY, NewEvent, RecordedEvent
from caseledger.domain.application.snapshots import snapshot_stream
from caseledger.projections.catalogue import all_projections
from caseledger.projections.ports import Checkpoint
from caseledger.projections.queries.service import QueryService, QueryStatus
from caseledger.projections.rebuild import RebuildProgress, activate_unserved, rebuild
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from caseledger.projections.views.evidence_search import EvidenceSearchProjection
from tests.support.facts import append, evidence_submitted, opened
from tests.support.queries import summary_query
from tests.support.runners import caught_up_runner

UNFOLLOWED = 3_000


class EvidenceSearchV1(EvidenceSearchProjection):
    version: ClassVar[int] = 1


@pytest.fixture
def events(embedded_server: EmbeddedServer) -> Iterator[KurrentEventStore]:
    store = KurrentEventStore.connect(embedded_server.url)
    yield store
    store.close()


def unfollowed(events: KurrentEventStore, count: int) -> int:
    """`count` events in a stream no view follows (snapshots); the last one's position."""
    position = 0
    for _ in range(count // 100):
        batch = [NewEvent("snapshot.case", b"{}") for _ in range(100)]
        position = events.append(
            snapshot_stream(CASE.stream("t1", "c0")), batch, ANY
        ).commit_position
    return position


def cases(events: KurrentEventStore, count: int) -> int:
    position = 0
    for i in range(count):
        position = append(
            events, opened(f"c{i}"), evidence_submitted(f"c{i}", "e1", f"wire transfer {i}")
        )
    return position


def test_the_adapter_passes_checkpoints_through_a_run_of_unfollowed_events(
    events: KurrentEventStore,
) -> None:
    followed = cases(events, 1)
    head = unfollowed(events, UNFOLLOWED)
    seen: list[RecordedEvent | Checkpoint] = []
    following = events.follow_all(None, ("case",))

    def read() -> None:
        for item in following:
            seen.append(item)
            if isinstance(item, Checkpoint) and item.position >= head:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)
    following.stop()

    recorded = [i for i in seen if isinstance(i, RecordedEvent)]
    checkpoints = [i.position for i in seen if isinstance(i, Checkpoint)]
    assert recorded[-1].commit_position == followed
    assert len(checkpoints) >= UNFOLLOWED // 1000
    assert checkpoints == sorted(checkpoints)
    assert checkpoints[-1] == head


def test_a_views_checkpoint_moves_across_unfollowed_events(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> None:
    cases(events, 2)
    head = unfollowed(events, UNFOLLOWED)

    runner = caught_up_runner(events, sqlite_store)

    assert runner.status().target == head
    assert all(sqlite_store.checkpoint(p.id) == head for p in all_projections())


def test_a_rebuild_beside_a_serving_view_switches_only_once_caught_up(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> None:
    old = EvidenceSearchV1()
    serving = ProjectionRunner(events, sqlite_store, [old], RunnerSettings(batch_size=100))
    activate_unserved(sqlite_store, [old])
    serving.start()
    try:
        followed = cases(events, 10)
        head = unfollowed(events, UNFOLLOWED)
        assert serving.wait_until(followed, timeout=60)
        at_switch: list[int | None] = []
        progress: list[RebuildProgress] = []

        rebuild(
            events,
            sqlite_store,
            EvidenceSearchProjection(),
            settings=RunnerSettings(batch_size=50),
            on_progress=progress.append,
            on_switch=lambda: at_switch.append(sqlite_store.checkpoint("evidence_search_v2")),
        )
    finally:
        serving.stop()

    assert progress[0].target == head
    assert at_switch == [head]
    assert sqlite_store.active_version("evidence_search") == 2
    hits = sqlite_store.find("evidence_search", "t1", {}, limit=100).rows
    assert len(hits) == 10


def test_a_position_beyond_the_head_is_stale_and_not_reached(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> None:
    written = cases(events, 1)
    caught_up_runner(events, sqlite_store)
    beyond = events.head_position() + 1_000

    result = QueryService(sqlite_store, head=events).handle(summary_query("c0", beyond, 200))

    assert result.status == QueryStatus.STALE
    assert result.data is not None
    assert result.data["freshness"]["reached"] is False
    assert result.data["freshness"]["as_of_position"] == written
    assert result.data["case_summary"]["case_id"] == "c0"


def test_a_case_not_yet_in_a_view_that_has_not_reached_the_position_is_stale_not_not_found(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> None:
    cases(events, 1)
    caught_up_runner(events, sqlite_store)  # then stopped: the next write stays unprojected
    written = append(events, opened("c-new"))

    result = QueryService(sqlite_store, head=events).handle(summary_query("c-new", written, 200))

    assert result.status == QueryStatus.STALE
    assert result.data is not None
    assert result.data["freshness"]["reached"] is False
    assert "does not hold it (yet)" in (result.error_message or "")


def test_a_case_missing_from_a_view_that_reached_the_position_is_not_found(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> None:
    written = cases(events, 1)
    caught_up_runner(events, sqlite_store)

    result = QueryService(sqlite_store, head=events).handle(summary_query("c-none", written, 200))

    assert result.status == QueryStatus.NOT_FOUND
    assert result.data is not None
    assert result.data["freshness"]["reached"] is True
