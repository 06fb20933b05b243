"""Snapshots on both stores: a new service starts from the latest snapshot and decides exactly
as one folding every event would; retries are still recognised."""

from __future__ import annotations

from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.loading import load
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.snapshots import SnapshotPolicy, snapshot_stream
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import ANALYST
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.histories import random_history
from tests.support.services import command_service


def test_a_cold_service_loads_from_the_snapshot_what_the_events_say(store: EventStore) -> None:
    walk = random_history(command_service(store, snapshot_every=5), seed=7, steps=30)
    assert store.read_stream(snapshot_stream("case-t1_c1"))

    cold = AggregateCache(store, event_registry(), snapshots=SnapshotPolicy(5))
    from_snapshot = cold.load(CASE, "case-t1_c1")
    from_events, _ = load(store, event_registry(), CASE, "case-t1_c1")

    assert from_snapshot.snapshot_revision > 0
    assert (from_snapshot.state, from_snapshot.revision) == (
        from_events.state,
        from_events.revision,
    )
    assert walk.results


def test_a_retry_on_a_new_service_started_from_a_snapshot_is_a_duplicate(
    store: EventStore,
) -> None:
    first = command_service(store, snapshot_every=3)
    case_under_review(first, approved_evidence=("e1", "e2", "e3"))
    brief = {"case_id": "c1", "brief_id": "b1", "title": "t", "body": "b"}
    original = accepted(issue(first, "create_analyst_brief", brief, ANALYST, key="k-1"))
    for n in range(2, 6):
        accepted(issue(first, "create_analyst_brief", {**brief, "brief_id": f"b{n}"}, ANALYST))

    again = issue(command_service(store), "create_analyst_brief", brief, ANALYST, key="k-1")

    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert [e.event_id for e in again.events] == [e.event_id for e in original.events]
    assert again.commit_position == original.commit_position
