"""Snapshots: loading from one equals loading from the events; one this code cannot use (another
schema, corrupt, no longer matching the stream) is ignored, never mis-read; writing one never
fails a command; audits' replays never read one."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from pydantic import TypeAdapter

from caseledger.domain.application.aggregates import CASE, NOTICE_DRAFT, Aggregate
from caseledger.domain.application.cache import AggregateCache
from caseledger.domain.application.loading import IdempotencyRecord, Loaded, load
from caseledger.domain.application.ports import (
    ANY,
    AppendResult,
    NewEvent,
    RecordedEvent,
    StreamRead,
)
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.replay import replay
from caseledger.domain.application.snapshots import (
    SNAPSHOT_EVENT_TYPE,
    SnapshotPolicy,
    encode,
    restore,
    schema_of,
    snapshot_stream,
)
from caseledger.domain.case.state import CaseStatus
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import ANALYST, REVIEWER
from tests.support.builders import TENANT
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.histories import random_history
from tests.support.memory_store import InMemoryEventStore, WithoutAtomicChecks
from tests.support.services import command_service

EVERY = 5


def _without_events(keys: Any) -> dict[Any, IdempotencyRecord]:
    return {
        scope: IdempotencyRecord(
            r.command_id, r.command_digest, r.outcome, (), r.first_revision, r.last_revision
        )
        for scope, r in keys.items()
    }


def _cold(store: InMemoryEventStore, aggregate: Aggregate[Any], stream: str) -> Loaded[Any]:
    cache = AggregateCache(store, event_registry(), snapshots=SnapshotPolicy(EVERY))
    return cache.load(aggregate, stream)


def _assert_same(from_snapshot: Loaded[Any], from_events: Loaded[Any]) -> None:
    assert from_snapshot.state == from_events.state
    assert from_snapshot.revision == from_events.revision
    assert _without_events(from_snapshot.keys) == _without_events(from_events.keys)


@pytest.mark.parametrize("seed", range(6))
def test_loading_from_a_snapshot_equals_loading_from_the_events(seed: int) -> None:
    store = InMemoryEventStore()
    random_history(command_service(store, snapshot_every=EVERY), seed, steps=60)

    for aggregate, stream in ((CASE, "case-t1_c1"), (NOTICE_DRAFT, "noticedraft-t1_d1")):
        from_events, _ = load(store, event_registry(), aggregate, stream)
        from_snapshot = _cold(store, aggregate, stream)
        _assert_same(from_snapshot, from_events)
        if from_events.revision >= SnapshotPolicy(EVERY).window:
            assert from_snapshot.snapshot_revision >= 0, "loaded from a snapshot"


@pytest.mark.parametrize("seed", range(3))
def test_a_snapshot_holds_the_state_as_its_adapter_dumps_it_to_json_values(seed: int) -> None:
    store = InMemoryEventStore()
    random_history(command_service(store, snapshot_every=0), seed, steps=60)

    for aggregate, stream in ((CASE, "case-t1_c1"), (NOTICE_DRAFT, "noticedraft-t1_d1")):
        loaded, _ = load(store, event_registry(), aggregate, stream)
        adapter = TypeAdapter(type(aggregate.initial_state()))

        document = orjson.loads(encode(loaded).data)

        assert document["state"] == adapter.dump_python(loaded.state, mode="json")


def test_a_cold_load_reads_the_snapshot_and_the_newest_events_in_one_call() -> None:
    store = ReadLog()
    service = command_service(store, snapshot_every=EVERY)
    case_under_review(service, approved_evidence=tuple(f"e{n}" for n in range(12)))
    (snapshot,) = store.read_stream(snapshot_stream("case-t1_c1"))[-1:]
    snapshot_revision = orjson.loads(snapshot.data)["revision"]
    store.calls = 0

    loaded = _cold(store, CASE, "case-t1_c1")

    assert loaded.snapshot_revision == snapshot_revision
    assert store.calls == 1, "the snapshot is within the window of newest events"
    assert loaded.state == load(store, event_registry(), CASE, "case-t1_c1")[0].state


def test_a_snapshot_further_back_than_the_window_is_read_on_from_in_a_second_call() -> None:
    store = ReadLog()
    evidence = ("e1", "e2", "e3")
    case_under_review(command_service(store, snapshot_every=EVERY), approved_evidence=evidence)
    snapshot = store.read_stream(snapshot_stream("case-t1_c1"))[-1]
    snapshot_revision = orjson.loads(snapshot.data)["revision"]
    no_snapshots = command_service(store, snapshot_every=0)
    for n in range(SnapshotPolicy(EVERY).window):
        brief = {"case_id": "c1", "brief_id": f"b{n}", "title": "t", "body": "b"}
        accepted(issue(no_snapshots, "create_analyst_brief", brief, ANALYST))
    store.calls = 0
    store.reads.clear()

    loaded = _cold(store, CASE, "case-t1_c1")

    assert loaded.snapshot_revision == snapshot_revision
    assert store.calls == 2
    assert ("case-t1_c1", snapshot_revision) in store.reads, "from the snapshot's revision on"
    _assert_same(loaded, load(store, event_registry(), CASE, "case-t1_c1")[0])


def test_snapshots_of_a_long_stream_are_further_apart_up_to_a_bound() -> None:
    policy = SnapshotPolicy(EVERY)
    gaps = [policy.gap(revision) for revision in range(0, 40 * EVERY, 3)]

    assert gaps[0] == EVERY
    assert gaps == sorted(gaps), "never closer together as the stream grows"
    assert max(gaps) == policy.most == policy.window - 1
    assert policy.gap(10**9) == policy.most


def test_a_long_stream_is_never_further_ahead_of_its_snapshot_than_the_window() -> None:
    store = ReadLog()
    service = command_service(store, snapshot_every=EVERY)
    case_under_review(service, approved_evidence=("e1",))
    behind = []
    for n in range(30 * EVERY):
        brief = {"case_id": "c1", "brief_id": f"b{n}", "title": "t", "body": "b"}
        written = accepted(issue(service, "create_analyst_brief", brief, ANALYST))
        snapshots = store.read_stream(snapshot_stream("case-t1_c1"))
        latest = orjson.loads(snapshots[-1].data)["revision"] if snapshots else -1
        behind.append(written.stream_revision - latest)
    store.calls = 0

    loaded = _cold(store, CASE, "case-t1_c1")

    assert max(behind) == SnapshotPolicy(EVERY).most
    assert store.calls == 1, "the snapshot is within the window of newest events"
    _assert_same(loaded, load(store, event_registry(), CASE, "case-t1_c1")[0])


def test_a_stream_shorter_than_the_window_is_read_whole_in_one_call() -> None:
    store = ReadLog()
    accepted(
        issue(
            command_service(store, snapshot_every=0),
            "open_case",
            {"case_id": "c1", "allegation_summary": "x"},
            ANALYST,
        )
    )
    store.calls = 0

    loaded = _cold(store, CASE, "case-t1_c1")

    assert (loaded.revision, loaded.snapshot_revision, store.calls) == (0, -1, 1)


def test_a_snapshot_of_another_schema_is_ignored() -> None:
    store, stream = _case_with_wrong_snapshot(lambda doc: {**doc, "schema": "case:0000"})
    assert _cold(store, CASE, stream).state.status is CaseStatus.UNDER_REVIEW


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda doc: b"{not json",
        lambda doc: {**doc, "state": {"status": "no-such-status"}},
        lambda doc: {**doc, "keys": [["only", "three", "fields"]]},
        lambda doc: {k: v for k, v in doc.items() if k != "revision"},
        lambda doc: {**doc, "stream": "case-other"},
        lambda doc: {**doc, "eventId": "00000000-0000-0000-0000-000000000000"},
        lambda doc: {**doc, "keys": {**doc["keys"], "rows": doc["keys"]["rows"][:-1]}},
        lambda doc: {**doc, "keys": {**doc["keys"], "actors": []}},
        lambda doc: {**doc, "revision": doc["revision"] + 1},
        lambda doc: {**doc, "revision": 2, "eventId": "00000000-0000-0000-0000-000000000000"},
    ],
    ids=[
        "not json",
        "bad state",
        "bad keys",
        "incomplete key",
        "unknown actor",
        "no revision",
        "other stream",
        "other event",
        "beyond the head",
        "further back, other event",
    ],
)
def test_a_corrupt_or_mismatched_snapshot_falls_back_to_the_events(corrupt: Any) -> None:
    store, stream = _case_with_wrong_snapshot(corrupt)
    loaded = _cold(store, CASE, stream)
    assert loaded.state.status is CaseStatus.UNDER_REVIEW
    assert loaded.snapshot_revision == -1


def _case_with_wrong_snapshot(change: Any) -> tuple[InMemoryEventStore, str]:
    """A case under review with 20 events and, as its latest snapshot, one saying "closed"
    changed by `change` (a snapshot that must not be used)."""
    store = InMemoryEventStore()
    service = command_service(store, snapshot_every=0)
    case_under_review(service, approved_evidence=tuple(f"e{n}" for n in range(9)))
    stored, _ = load(store, event_registry(), CASE, "case-t1_c1")
    lying = Loaded(
        CASE,
        stored.stream,
        stored.state.__class__(**{**vars(stored.state), "status": CaseStatus.CLOSED}),
        stored.revision,
        stored.keys,
        last_event_id=stored.last_event_id,
    )
    document = orjson.loads(encode(lying).data)
    changed = change(document)
    data = changed if isinstance(changed, bytes) else orjson.dumps(changed)
    store.append(snapshot_stream("case-t1_c1"), [NewEvent(SNAPSHOT_EVENT_TYPE, data)], ANY)
    return store, "case-t1_c1"


def test_the_key_index_round_trips_through_a_snapshot() -> None:
    keys = {
        ("user:alice", "k1"): IdempotencyRecord("k1", "d1", "accepted", (), 3, 3),
        ("user:alice", "k2"): IdempotencyRecord("cmd-2", "d2", "accepted", (), 4, 6),
        ("agent:triage", "k1"): IdempotencyRecord("cmd-3", "d3", "rejected", (), 7, 7),
    }
    stored, _ = load(InMemoryEventStore(), event_registry(), CASE, "case-t1_c1")
    snapshot = encode(Loaded(CASE, "case-t1_c1", stored.state, 7, keys, last_event_id=uuid.uuid4()))
    recorded = RecordedEvent(
        snapshot.id,
        "snapshot-case-t1_c1",
        0,
        snapshot.type,
        snapshot.data,
        b"",
        "application/json",
        0,
    )

    restored = restore(CASE, "case-t1_c1", [recorded])

    assert restored is not None
    assert dict(restored.loaded.keys) == keys


def test_a_key_record_made_the_fast_way_equals_one_made_by_its_constructor() -> None:
    fast = IdempotencyRecord.of("cmd-1", "digest", "accepted", (), 3, 4)
    assert fast == IdempotencyRecord("cmd-1", "digest", "accepted", (), 3, 4)
    assert set(vars(fast)) == {f.name for f in dataclasses.fields(IdempotencyRecord)}


def test_the_snapshot_schema_is_bound_to_the_state_and_the_decider_code() -> None:
    assert schema_of(CASE).startswith("case:")
    assert schema_of(CASE) != schema_of(NOTICE_DRAFT)
    assert schema_of(CASE) == schema_of(CASE)


def test_a_duplicate_after_a_cold_start_from_a_snapshot_returns_the_original_events() -> None:
    store = InMemoryEventStore()
    first = command_service(store, snapshot_every=EVERY)
    case_under_review(first, approved_evidence=tuple(f"e{n}" for n in range(8)))
    brief = {"case_id": "c1", "brief_id": "b1", "title": "t", "body": "b"}
    original = accepted(issue(first, "create_analyst_brief", brief, ANALYST, key="brief-1"))
    for n in range(2, 2 + EVERY):  # so that a snapshot covers the brief
        payload = {**brief, "brief_id": f"b{n}"}
        accepted(issue(first, "create_analyst_brief", payload, ANALYST))
    latest = orjson.loads(store.read_stream(snapshot_stream("case-t1_c1"))[-1].data)["revision"]
    assert latest >= (original.stream_revision or 0), "a snapshot covers the brief"

    again = issue(command_service(store), "create_analyst_brief", brief, ANALYST, key="brief-1")

    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert [(e.event_id, e.payload) for e in again.events] == [
        (e.event_id, e.payload) for e in original.events
    ]
    assert (again.stream_revision, again.commit_position) == (
        original.stream_revision,
        original.commit_position,
    )


class ReadLog(InMemoryEventStore):
    """Remembers every (stream, from revision) read, and counts the calls."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[str, int]] = []
        self.calls = 0

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        self.reads.append((stream, from_revision))
        return super().read_stream(stream, from_revision, limit)

    def read_streams(self, requests: Sequence[StreamRead]) -> list[list[RecordedEvent]]:
        self.calls += 1
        return super().read_streams(requests)


class ReadLogWithoutChecks(WithoutAtomicChecks, ReadLog):
    """A ReadLog on a store with no atomic checks: the service reads before every command."""


class FailingSnapshots(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot_attempts = 0

    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        if stream.startswith("snapshot-"):
            self.snapshot_attempts += 1
            raise ConnectionError("the store went away")
        return super().append(stream, events, expected)


def test_a_failed_snapshot_write_never_fails_the_command() -> None:
    store = FailingSnapshots()
    service = command_service(store, snapshot_every=2)
    results = [
        accepted(issue(service, "open_case", {"case_id": "c1", "allegation_summary": "x"}, ANALYST))
    ]
    for n in range(6):
        payload = {"case_id": "c1", "evidence_id": f"e{n}", "title": "t", "text": "x"}
        results.append(issue(service, "submit_evidence", payload, ANALYST))
    assert {r.status for r in results} == {CommandOutcome.ACCEPTED}
    assert store.read_stream(snapshot_stream("case-t1_c1")) == []
    assert store.snapshot_attempts == 3  # tried again every 2 events, not on every command


def test_a_snapshot_is_written_after_the_command_in_its_own_stream() -> None:
    store = InMemoryEventStore()
    service = command_service(store, snapshot_every=EVERY)
    case_under_review(service, approved_evidence=("e1", "e2", "e3"))
    (snapshot,) = store.read_stream(snapshot_stream("case-t1_c1"))
    document = orjson.loads(snapshot.data)
    assert (snapshot.type, document["stream"], document["schema"]) == (
        SNAPSHOT_EVENT_TYPE,
        "case-t1_c1",
        schema_of(CASE),
    )
    assert document["revision"] >= EVERY - 1
    assert all(r.type != SNAPSHOT_EVENT_TYPE for r in store.read_stream("case-t1_c1"))


class HeldBack:
    """A `Background` that runs nothing until told: work waiting under a key is replaced."""

    def __init__(self) -> None:
        self.waiting: dict[str, Callable[[], None]] = {}

    def submit(self, key: str, work: Callable[[], None]) -> None:
        self.waiting[key] = work

    def run(self) -> None:
        waiting, self.waiting = self.waiting, {}
        for work in waiting.values():
            work()


def test_a_command_is_answered_before_its_snapshot_is_written_then_the_newest_is() -> None:
    store, background = InMemoryEventStore(), HeldBack()
    service = command_service(store, snapshot_every=2, background=background)
    accepted(issue(service, "open_case", {"case_id": "c1", "allegation_summary": "x"}, ANALYST))
    for n in range(4):
        payload = {"case_id": "c1", "evidence_id": f"e{n}", "title": "t", "text": "x"}
        accepted(issue(service, "submit_evidence", payload, ANALYST))
    assert store.read_stream(snapshot_stream("case-t1_c1")) == []  # answered, nothing written yet
    assert list(background.waiting) == ["case-t1_c1"]  # one waiting, the newest

    background.run()
    (snapshot,) = store.read_stream(snapshot_stream("case-t1_c1"))
    assert orjson.loads(snapshot.data)["revision"] == 3  # the case as the last command loaded it
    from_events, _ = load(store, event_registry(), CASE, "case-t1_c1")
    _assert_same(_cold(store, CASE, "case-t1_c1"), from_events)


def test_replays_for_audits_never_read_a_snapshot() -> None:
    store = ReadLog()
    case_under_review(command_service(store, snapshot_every=2), approved_evidence=("e1", "e2"))
    assert store.read_stream(snapshot_stream("case-t1_c1"))
    store.reads.clear()

    replayed = replay(store, "case", TENANT, "c1")

    assert {stream for stream, _ in store.reads} == {"case-t1_c1"}
    assert replayed.revision == 5


def test_without_checks_a_warm_command_reads_its_aggregate_and_policy_in_one_call() -> None:
    store = ReadLogWithoutChecks()
    service = command_service(store)
    case_under_review(service)
    store.calls = 0
    store.reads.clear()

    accepted(
        issue(
            service,
            "create_analyst_brief",
            {"case_id": "c1", "brief_id": "b", "title": "t", "body": "b"},
            ANALYST,
        )
    )

    assert store.calls == 1
    assert sorted(stream for stream, _ in store.reads if not _reservation(stream)) == [
        "case-t1_c1",
        "policy-t1",
    ]


def test_without_checks_a_notice_command_reads_its_draft_policy_and_case_in_one_call() -> None:
    store = ReadLogWithoutChecks()
    service = command_service(store)
    case_under_review(service)
    draft = {"draft_id": "d1", "case_id": "c1", "recipient": "x@y.org", "subject": "s", "body": "b"}
    accepted(issue(service, "create_notice_draft", draft, ANALYST))
    request = accepted(issue(service, "request_notice_approval", {"draft_id": "d1"}, ANALYST))
    requested = request.events[0].payload
    approval = {
        "draft_id": "d1",
        "approval_request_id": requested["approval_request_id"],
        "digest": requested["digest"],
    }
    store.calls = 0
    store.reads.clear()

    accepted(issue(service, "approve_notice_draft", approval, REVIEWER))

    assert store.calls == 1
    assert sorted(stream for stream, _ in store.reads if not _reservation(stream)) == [
        "case-t1_c1",
        "noticedraft-t1_d1",
        "policy-t1",
    ]
    approved = orjson.loads(store.read_stream("noticedraft-t1_d1")[-1].metadata)
    assert approved["factsRead"] == "case-t1_c1@3"


def test_a_snapshot_stream_keeps_only_its_newest_snapshots() -> None:
    store = InMemoryEventStore()
    service = command_service(store, snapshot_every=2)
    accepted(issue(service, "open_case", {"case_id": "c1", "allegation_summary": "x"}, ANALYST))
    for n in range(10):  # short enough for a snapshot every 2 events
        payload = {"case_id": "c1", "evidence_id": f"e{n}", "title": "t", "text": "x"}
        accepted(issue(service, "submit_evidence", payload, ANALYST))

    kept = store.read_stream(snapshot_stream("case-t1_c1"))

    assert [orjson.loads(s.data)["revision"] for s in kept] == [7, 9]
    assert kept[-1].revision >= 4  # older snapshots were written, and are no longer readable


def _reservation(stream: str) -> bool:
    """Without multi-stream appends, a command also reads its key's reservation on its own
    (before its append): not part of the aggregate's load."""
    return stream.startswith("idempotency-")
