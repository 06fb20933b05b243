"""The EventStore port's contract, written once and run against every backend (eventsourcing's
style: an abstract test class here; one small subclass per backend in the `test_*` modules
beside it, saying only how to make the store).

`append_checked` (an append committed only if other streams are still at the revisions a
decision read, as one atomic step) is part of the port: a KurrentDB before 26.1 (no
AppendRecords) answers ChecksUnsupported, and those tests skip with its reason there."""

from __future__ import annotations

import queue
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

import pytest

from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ChecksUnsupported,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamRead,
    StreamWrite,
    Subscription,
    WrongExpectedVersion,
)


def _stream(category: str = "case") -> str:
    return f"{category}-{uuid.uuid4().hex}"


def _events(n: int, kind: str = "case.opened") -> list[NewEvent]:
    return [NewEvent(type=kind, data=f'{{"n": {i}}}'.encode()) for i in range(n)]


def _take(subscription: Subscription, n: int, timeout: float = 10.0) -> list[RecordedEvent]:
    """The first n events, read on another thread; stops the subscription from this one."""
    received: queue.Queue[RecordedEvent] = queue.Queue()
    ended = threading.Event()

    def consume() -> None:
        for event in subscription:
            received.put(event)
        ended.set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    try:
        return [received.get(timeout=timeout) for _ in range(n)]
    finally:
        subscription.stop()
        consumer.join(timeout=timeout)
        assert ended.is_set(), "stop() from another thread must end the iteration"


def _with_metadata(n: int) -> list[NewEvent]:
    return [
        NewEvent(type="case.opened", data=b'{"n": 1}', metadata=b'{"k": "v"}') for _ in range(n)
    ]


def _checked(store: EventStore) -> Callable[..., AppendResult]:
    """`store.append_checked`, skipping (with the server's reason) where it has none."""

    def append(*args: object) -> AppendResult:
        try:
            return store.append_checked(*args)  # type: ignore[arg-type]
        except ChecksUnsupported as unsupported:
            pytest.skip(f"this KurrentDB has no AppendRecords (< 26.1): {unsupported}")

    return append


class EventStoreContract(ABC):
    """Every backend of the EventStore port passes these tests. A subclass says only how to
    make the store (`connect`); the tests use fresh stream names, so a shared store will do."""

    @abstractmethod
    def connect(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        """Yield a store of this backend, ready for use; clean up after the yield."""

    @pytest.fixture
    def event_store(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        yield from self.connect(request)

    def test_append_to_a_new_stream_returns_revisions_from_zero(
        self, event_store: EventStore
    ) -> None:
        result = event_store.append(_stream(), _events(3), NO_STREAM)

        assert result.revision == 2
        assert result.commit_position > 0

    def test_append_at_the_exact_revision_extends_the_stream(self, event_store: EventStore) -> None:
        stream = _stream()
        first = event_store.append(stream, _events(2), NO_STREAM)

        second = event_store.append(stream, _events(1), first.revision)

        assert second.revision == 2
        assert second.commit_position > first.commit_position

    @pytest.mark.parametrize("expected", [ANY, STREAM_EXISTS])
    def test_append_without_a_revision_check_reports_the_new_revision(
        self, event_store: EventStore, expected: int
    ) -> None:
        stream = _stream()
        event_store.append(stream, _events(2), NO_STREAM)

        result = event_store.append(stream, _events(2), expected)

        assert result.revision == 3

    def test_append_with_any_creates_a_missing_stream(self, event_store: EventStore) -> None:
        assert event_store.append(_stream(), _events(1), ANY).revision == 0

    def test_stream_exists_on_a_missing_stream_is_a_wrong_version(
        self, event_store: EventStore
    ) -> None:
        with pytest.raises(WrongExpectedVersion) as raised:
            event_store.append(_stream(), _events(1), STREAM_EXISTS)

        assert raised.value.actual == NO_STREAM

    @pytest.mark.parametrize("count", [1, 3], ids=["one event", "several events"])
    def test_a_stale_revision_is_a_wrong_version_carrying_the_actual_one(
        self, event_store: EventStore, count: int
    ) -> None:
        stream = _stream()
        event_store.append(stream, _events(3), NO_STREAM)

        with pytest.raises(WrongExpectedVersion) as raised:
            event_store.append(stream, _events(count), 0)

        assert (raised.value.stream, raised.value.expected, raised.value.actual) == (stream, 0, 2)
        assert len(event_store.read_stream(stream)) == 3

    def test_no_stream_on_an_existing_stream_is_a_wrong_version(
        self, event_store: EventStore
    ) -> None:
        stream = _stream()
        event_store.append(stream, _events(1), NO_STREAM)

        with pytest.raises(WrongExpectedVersion) as raised:
            event_store.append(stream, _events(1), NO_STREAM)

        assert raised.value.actual == 0

    @pytest.mark.parametrize("count", [1, 3], ids=["one event", "several events"])
    def test_repeating_an_append_with_the_same_ids_writes_nothing(
        self, event_store: EventStore, count: int
    ) -> None:
        stream = _stream()
        events = _events(count)
        first = event_store.append(stream, events, NO_STREAM)

        again = event_store.append(stream, events, NO_STREAM)

        assert again == first
        assert [e.id for e in event_store.read_stream(stream)] == [e.id for e in events]

    def test_reading_a_missing_stream_gives_no_events(self, event_store: EventStore) -> None:
        assert event_store.read_stream(_stream()) == []

    def test_read_stream_returns_events_as_written(self, event_store: EventStore) -> None:
        stream = _stream()
        written = [
            NewEvent(type="case.opened", data=b'{"a": 1}', metadata=b'{"actor": "x"}'),
            NewEvent(
                type="case.note.attached",
                data=bytes(range(256)),
                metadata=b"\x00\xff",
                content_type="application/octet-stream",
            ),
        ]
        result = event_store.append(stream, written, NO_STREAM)

        read = event_store.read_stream(stream)

        assert [(e.id, e.type, e.data, e.metadata, e.content_type) for e in read] == [
            (e.id, e.type, e.data, e.metadata, e.content_type) for e in written
        ]
        assert [(e.stream, e.revision) for e in read] == [(stream, 0), (stream, 1)]
        assert read[-1].commit_position == result.commit_position
        assert read[0].commit_position < read[1].commit_position

    def test_read_stream_from_a_revision_with_a_limit(self, event_store: EventStore) -> None:
        stream = _stream()
        event_store.append(stream, _events(5), NO_STREAM)

        read = event_store.read_stream(stream, from_revision=1, limit=2)

        assert [e.revision for e in read] == [1, 2]

    def test_head_position_is_the_last_appended_commit_position(
        self, event_store: EventStore
    ) -> None:
        result = event_store.append(_stream(), _events(2), NO_STREAM)

        assert event_store.head_position() == result.commit_position

    def test_head_position_of_categories_ignores_other_streams(
        self, event_store: EventStore
    ) -> None:
        followed = event_store.append(_stream("case"), _events(1), NO_STREAM).commit_position
        other = event_store.append(_stream("commandlog"), _events(1), NO_STREAM).commit_position

        assert event_store.head_position() == other
        assert event_store.head_position(("case", "noticedraft")) == followed
        assert event_store.head_position(("nosuchcategory",)) == 0

    def test_subscribe_all_delivers_past_then_live_events(self, event_store: EventStore) -> None:
        stream = _stream()
        past = event_store.append(stream, _events(2), NO_STREAM)
        before = event_store.read_stream(stream)[0].commit_position
        subscription = event_store.subscribe_all(from_position=before)
        live_events = _events(1)

        def append_live() -> None:
            event_store.append(stream, live_events, past.revision)

        threading.Timer(0.3, append_live).start()
        received = _take(subscription, 2)

        assert [(e.stream, e.revision) for e in received] == [(stream, 1), (stream, 2)]
        assert received[1].id == live_events[0].id

    def test_subscribe_all_from_a_position_excludes_the_event_at_it(
        self,
        event_store: EventStore,
    ) -> None:
        stream = _stream()
        event_store.append(stream, _events(3), NO_STREAM)
        first, second, third = event_store.read_stream(stream)

        received = _take(event_store.subscribe_all(from_position=first.commit_position), 2)

        assert [e.id for e in received] == [second.id, third.id]

    def test_subscribe_all_from_the_start_sees_every_event_in_commit_order(
        self,
        event_store: EventStore,
    ) -> None:
        stream = _stream()
        event_store.append(stream, _events(3), NO_STREAM)
        head = event_store.head_position()

        received: list[RecordedEvent] = []
        subscription = event_store.subscribe_all()
        for event in subscription:
            received.append(event)
            if event.commit_position >= head:
                subscription.stop()

        positions = [e.commit_position for e in received]
        assert positions == sorted(set(positions))
        assert [e.revision for e in received if e.stream == stream] == [0, 1, 2]
        assert not any(e.type.startswith("$") for e in received)

    def test_subscribe_all_by_category_keeps_only_streams_named_category_dash(
        self,
        event_store: EventStore,
    ) -> None:
        case, caseload, notice = _stream("case"), _stream("caseload"), _stream("noticedraft")
        start = event_store.append(_stream("other"), _events(1), NO_STREAM).commit_position
        event_store.append(caseload, _events(1), NO_STREAM)
        event_store.append(case, _events(1), NO_STREAM)
        event_store.append(notice, _events(1, "notice.drafted"), NO_STREAM)
        event_store.append(case, _events(1), 0)

        received = _take(event_store.subscribe_all(start, categories=["case", "noticedraft"]), 3)

        assert [(e.stream, e.revision) for e in received] == [(case, 0), (notice, 0), (case, 1)]

    def test_read_streams_answers_each_request_in_request_order(
        self, event_store: EventStore
    ) -> None:
        first, second, missing = _stream(), _stream("policy"), _stream()
        event_store.append(first, _events(4), NO_STREAM)
        event_store.append(second, _events(2), NO_STREAM)

        answers = event_store.read_streams(
            [StreamRead(second, 0), StreamRead(first, 2), StreamRead(missing, 0), StreamRead(first)]
        )

        assert [[(e.stream, e.revision) for e in answer] for answer in answers] == [
            [(second, 0), (second, 1)],
            [(first, 2), (first, 3)],
            [],
            [(first, r) for r in range(4)],
        ]

    def test_read_streams_from_past_the_end_gives_no_events(self, event_store: EventStore) -> None:
        stream = _stream()
        event_store.append(stream, _events(2), NO_STREAM)

        assert event_store.read_streams([StreamRead(stream, 2), StreamRead(stream, 1)]) == [
            [],
            event_store.read_stream(stream, 1),
        ]

    def test_read_streams_with_a_limit_and_with_none(self, event_store: EventStore) -> None:
        stream = _stream()
        event_store.append(stream, _events(5), NO_STREAM)

        (limited,) = event_store.read_streams([StreamRead(stream, 1, limit=2)])

        assert [e.revision for e in limited] == [1, 2]
        assert event_store.read_streams([]) == []

    def test_read_streams_backwards_gives_the_newest_events_first(
        self, event_store: EventStore
    ) -> None:
        stream, missing = _stream(), _stream()
        event_store.append(stream, _events(3), NO_STREAM)

        last, two, none = event_store.read_streams(
            [
                StreamRead.last(stream),
                StreamRead(stream, limit=2, backwards=True),
                StreamRead.last(missing),
            ]
        )

        assert [e.revision for e in last] == [2]
        assert [e.revision for e in two] == [2, 1]
        assert none == []

    def test_a_category_does_not_match_streams_that_only_contain_it(
        self, event_store: EventStore
    ) -> None:
        """`snapshot-case-<id>` (write-side snapshots) is not in the `case` category."""
        case = _stream()
        start = event_store.append(_stream("other"), _events(1), NO_STREAM).commit_position
        event_store.append(f"snapshot-{case}", _events(1, "caseledger.snapshot"), NO_STREAM)
        event_store.append(case, _events(1), NO_STREAM)

        (received,) = _take(event_store.subscribe_all(start, categories=["case"]), 1)

        assert (received.stream, received.revision) == (case, 0)

    def test_keep_latest_leaves_only_the_newest_events_readable(
        self, event_store: EventStore
    ) -> None:
        stream = _stream("snapshot")
        event_store.append(stream, _events(3), NO_STREAM)

        event_store.keep_latest(stream, 2)
        event_store.append(stream, _events(1), ANY)

        assert [e.revision for e in event_store.read_stream(stream)] == [2, 3]
        newest = event_store.read_streams([StreamRead.last(stream)])
        assert [e.revision for e in newest[0]] == [3]

    # -- append_checked: other streams checked in the same atomic step ------------------

    def test_with_every_check_holding_the_events_are_written(self, event_store: EventStore) -> None:
        stream, policy, case = _stream(), _stream("policy"), _stream()
        event_store.append(policy, _with_metadata(2), NO_STREAM)

        result = _checked(event_store)(
            stream, _with_metadata(2), NO_STREAM, {policy: 1, case: NO_STREAM}
        )

        assert result.revision == 1
        assert [e.revision for e in event_store.read_stream(stream)] == [0, 1]
        assert event_store.read_stream(stream)[-1].commit_position == result.commit_position

    def test_another_streams_append_commits_with_it_and_the_answer_is_the_streams_own(
        self,
        event_store: EventStore,
    ) -> None:
        stream, key, policy = _stream(), _stream("idempotency"), _stream("policy")
        event_store.append(policy, _with_metadata(1), NO_STREAM)

        result = _checked(event_store)(
            stream,
            _with_metadata(2),
            NO_STREAM,
            {policy: 0},
            [StreamWrite(key, _with_metadata(1), NO_STREAM)],
        )

        assert result.revision == 1
        assert event_store.read_stream(stream)[-1].commit_position == result.commit_position
        assert [e.revision for e in event_store.read_stream(key)] == [0]

    def test_another_streams_append_that_fails_its_expected_version_writes_nothing(
        self,
        event_store: EventStore,
    ) -> None:
        stream, key = _stream(), _stream("idempotency")
        event_store.append(key, _with_metadata(1), NO_STREAM)

        with pytest.raises(WrongExpectedVersion) as raised:
            _checked(event_store)(
                stream, _with_metadata(1), NO_STREAM, {}, [StreamWrite(key, _with_metadata(1), -1)]
            )

        assert raised.value.stream == key
        assert event_store.read_stream(stream) == []
        assert len(event_store.read_stream(key)) == 1

    def test_a_moved_stream_fails_the_check_and_nothing_is_written(
        self, event_store: EventStore
    ) -> None:
        stream, policy = _stream(), _stream("policy")
        event_store.append(stream, _with_metadata(1), NO_STREAM)
        event_store.append(policy, _with_metadata(2), NO_STREAM)

        with pytest.raises(WrongExpectedVersion) as raised:
            _checked(event_store)(stream, _with_metadata(1), 0, {policy: 0})

        assert (raised.value.stream, raised.value.expected, raised.value.actual) == (policy, 0, 1)
        assert len(event_store.read_stream(stream)) == 1

    def test_a_stream_that_must_be_missing_but_exists_fails_the_check(
        self, event_store: EventStore
    ) -> None:
        stream, other = _stream(), _stream()
        event_store.append(other, _with_metadata(1), NO_STREAM)

        with pytest.raises(WrongExpectedVersion) as raised:
            _checked(event_store)(stream, _with_metadata(1), NO_STREAM, {other: NO_STREAM})

        assert raised.value.stream == other
        assert event_store.read_stream(stream) == []

    def test_the_appended_streams_own_expected_version_is_checked(
        self, event_store: EventStore
    ) -> None:
        stream = _stream()
        event_store.append(stream, _with_metadata(2), NO_STREAM)

        with pytest.raises(WrongExpectedVersion) as raised:
            _checked(event_store)(stream, _with_metadata(1), 0, {})

        assert (raised.value.stream, raised.value.actual) == (stream, 1)
        assert _checked(event_store)(stream, _with_metadata(1), ANY, {}).revision == 2

    def test_of_racing_appends_checked_against_one_revision_one_wins(
        self, event_store: EventStore
    ) -> None:
        stream, policy = _stream(), _stream("policy")
        event_store.append(policy, _with_metadata(1), NO_STREAM)
        append = _checked(event_store)
        start, outcomes = threading.Barrier(6), []

        def race(target: str) -> None:
            start.wait()
            try:
                append(target, _with_metadata(1), NO_STREAM, {policy: 0})
                outcomes.append("written")
            except WrongExpectedVersion:
                outcomes.append("refused")

        threads = [threading.Thread(target=race, args=(stream,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes) == ["refused"] * 5 + ["written"]
        assert len(event_store.read_stream(stream)) == 1
