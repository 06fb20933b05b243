"""`EventStore.append_checked`: an append committed only if other streams are still at the
revisions a decision read, as one atomic step. Written once; run on the embedded store, on a
real KurrentDB where Docker runs (>= 26.1 has AppendRecords; an older one says so), and on the
in-memory fake the unit tests stand on."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest

from caseledger.domain.application.ports import (
    ANY,
    NO_STREAM,
    AppendResult,
    ChecksUnsupported,
    EventStore,
    NewEvent,
    StreamWrite,
    WrongExpectedVersion,
)
from tests.contract.conftest import BACKENDS, connected
from tests.support.memory_store import InMemoryEventStore


@pytest.fixture(params=[*BACKENDS, "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[EventStore]:
    """The adapter on each backend, and the in-memory fake."""
    if request.param == "memory":
        yield InMemoryEventStore()
    else:
        yield from connected(request, request.param)


def _stream(category: str = "case") -> str:
    return f"{category}-{uuid.uuid4().hex}"


def _events(n: int) -> list[NewEvent]:
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


def test_with_every_check_holding_the_events_are_written(store: EventStore) -> None:
    stream, policy, case = _stream(), _stream("policy"), _stream()
    store.append(policy, _events(2), NO_STREAM)

    result = _checked(store)(stream, _events(2), NO_STREAM, {policy: 1, case: NO_STREAM})

    assert result.revision == 1
    assert [e.revision for e in store.read_stream(stream)] == [0, 1]
    assert store.read_stream(stream)[-1].commit_position == result.commit_position


def test_another_streams_append_commits_with_it_and_the_answer_is_the_streams_own(
    store: EventStore,
) -> None:
    stream, key, policy = _stream(), _stream("idempotency"), _stream("policy")
    store.append(policy, _events(1), NO_STREAM)

    result = _checked(store)(
        stream, _events(2), NO_STREAM, {policy: 0}, [StreamWrite(key, _events(1), NO_STREAM)]
    )

    assert result.revision == 1
    assert store.read_stream(stream)[-1].commit_position == result.commit_position
    assert [e.revision for e in store.read_stream(key)] == [0]


def test_another_streams_append_that_fails_its_expected_version_writes_nothing(
    store: EventStore,
) -> None:
    stream, key = _stream(), _stream("idempotency")
    store.append(key, _events(1), NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as raised:
        _checked(store)(stream, _events(1), NO_STREAM, {}, [StreamWrite(key, _events(1), -1)])

    assert raised.value.stream == key
    assert store.read_stream(stream) == []
    assert len(store.read_stream(key)) == 1


def test_a_moved_stream_fails_the_check_and_nothing_is_written(store: EventStore) -> None:
    stream, policy = _stream(), _stream("policy")
    store.append(stream, _events(1), NO_STREAM)
    store.append(policy, _events(2), NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as raised:
        _checked(store)(stream, _events(1), 0, {policy: 0})

    assert (raised.value.stream, raised.value.expected, raised.value.actual) == (policy, 0, 1)
    assert len(store.read_stream(stream)) == 1


def test_a_stream_that_must_be_missing_but_exists_fails_the_check(store: EventStore) -> None:
    stream, other = _stream(), _stream()
    store.append(other, _events(1), NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as raised:
        _checked(store)(stream, _events(1), NO_STREAM, {other: NO_STREAM})

    assert raised.value.stream == other
    assert store.read_stream(stream) == []


def test_the_appended_streams_own_expected_version_is_checked(store: EventStore) -> None:
    stream = _stream()
    store.append(stream, _events(2), NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as raised:
        _checked(store)(stream, _events(1), 0, {})

    assert (raised.value.stream, raised.value.actual) == (stream, 1)
    assert _checked(store)(stream, _events(1), ANY, {}).revision == 2


def test_of_racing_appends_checked_against_one_revision_one_wins(store: EventStore) -> None:
    stream, policy = _stream(), _stream("policy")
    store.append(policy, _events(1), NO_STREAM)
    append = _checked(store)
    start, outcomes = threading.Barrier(6), []

    def race(target: str) -> None:
        start.wait()
        try:
            append(target, _events(1), NO_STREAM, {policy: 0})
            outcomes.append("written")
        except WrongExpectedVersion:
            outcomes.append("refused")

    threads = [threading.Thread(target=race, args=(stream,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused"] * 5 + ["written"]
    assert len(store.read_stream(stream)) == 1
