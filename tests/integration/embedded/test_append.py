"""Appends through the real client: expected states, wrong versions, positions, idempotency,
and bytes returned exactly as written."""

from __future__ import annotations

import itertools

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import WrongCurrentVersionError

from tests.support.kurrent_helpers import (
    append,
    append_one,
    append_via,
    new_events,
    stream_name,
)


def test_append_expecting_no_stream_creates_the_stream_at_revision_zero(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()

    append(kurrent_client, stream, new_events(2), StreamState.NO_STREAM)

    assert [e.stream_position for e in kurrent_client.get_stream(stream)] == [0, 1]


def test_append_expecting_any_creates_and_extends_a_stream(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()

    append_one(kurrent_client, stream, new_events(1)[0], StreamState.ANY)
    append(kurrent_client, stream, new_events(2), StreamState.ANY)

    assert kurrent_client.get_current_version(stream) == 2


def test_append_expecting_stream_exists_extends_an_existing_stream(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(1), StreamState.NO_STREAM)

    append(kurrent_client, stream, new_events(2), StreamState.EXISTS)

    assert kurrent_client.get_current_version(stream) == 2


def test_append_expecting_an_exact_revision_extends_the_stream(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(2), StreamState.NO_STREAM)

    append_one(kurrent_client, stream, new_events(1)[0], 1)
    append(kurrent_client, stream, new_events(2), 2)

    assert [e.stream_position for e in kurrent_client.get_stream(stream)] == [0, 1, 2, 3, 4]


def test_revisions_start_at_zero_in_every_stream(kurrent_client: KurrentDBClient) -> None:
    first, second = stream_name(), stream_name()
    append(kurrent_client, first, new_events(3))
    append(kurrent_client, second, new_events(2))

    assert [e.stream_position for e in kurrent_client.get_stream(first)] == [0, 1, 2]
    assert [e.stream_position for e in kurrent_client.get_stream(second)] == [0, 1]


def test_append_rpc_wrong_expected_version_raises_with_the_actual_version(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(3), StreamState.NO_STREAM)

    with pytest.raises(WrongCurrentVersionError) as raised:
        append_one(kurrent_client, stream, new_events(1)[0], 0)

    assert raised.value.actual_version == 2
    assert raised.value.expected_version == 0


def test_batch_append_wrong_expected_version_raises_with_the_actual_version(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(3), StreamState.NO_STREAM)

    with pytest.raises(WrongCurrentVersionError) as raised:
        append(kurrent_client, stream, new_events(2), 5)

    assert raised.value.actual_version == 2
    assert raised.value.expected_version == 5
    assert kurrent_client.get_current_version(stream) == 2


@pytest.mark.parametrize("rpc", ["Append", "BatchAppend"])
def test_expecting_no_stream_on_an_existing_stream_raises_with_the_actual_version(
    kurrent_client: KurrentDBClient, rpc: str
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(2), StreamState.NO_STREAM)
    event = new_events(1)[0]

    with pytest.raises(WrongCurrentVersionError) as raised:
        append_via(rpc, kurrent_client, stream, event, StreamState.NO_STREAM)

    assert raised.value.actual_version == 1


@pytest.mark.parametrize("rpc", ["Append", "BatchAppend"])
@pytest.mark.parametrize("expected", [StreamState.EXISTS, 0], ids=["stream exists", "revision"])
def test_expecting_a_stream_that_does_not_exist_raises_with_actual_no_stream(
    kurrent_client: KurrentDBClient, rpc: str, expected: int | StreamState
) -> None:
    stream = stream_name()
    event = new_events(1)[0]

    with pytest.raises(WrongCurrentVersionError) as raised:
        append_via(rpc, kurrent_client, stream, event, expected)

    assert raised.value.actual_version is StreamState.NO_STREAM


def test_commit_positions_over_all_are_strictly_increasing_and_not_contiguous(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    returned = [append_one(kurrent_client, stream, e) for e in new_events(3)]
    returned.append(append(kurrent_client, stream, new_events(3)))

    positions = [e.commit_position for e in kurrent_client.get_stream(stream)]

    assert positions == sorted(set(positions))
    assert all(b - a > 1 for a, b in itertools.pairwise(positions))
    assert returned == [positions[0], positions[1], positions[2], positions[5]]


def test_an_append_returns_the_commit_position_of_its_last_event(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()

    position = append(kurrent_client, stream, new_events(3))

    assert kurrent_client.get_stream(stream)[-1].commit_position == position
    assert kurrent_client.get_commit_position() == position


@pytest.mark.parametrize(
    "expected",
    [StreamState.NO_STREAM, StreamState.ANY],
    ids=["no stream", "any"],
)
def test_repeating_a_batch_append_with_the_same_ids_returns_the_original_position(
    kurrent_client: KurrentDBClient, expected: StreamState
) -> None:
    stream = stream_name()
    events = new_events(3)
    original = append(kurrent_client, stream, events, expected)
    head = kurrent_client.get_commit_position(filter_exclude=())

    again = append(kurrent_client, stream, events, expected)

    assert again == original
    assert [e.id for e in kurrent_client.get_stream(stream)] == [e.id for e in events]
    assert kurrent_client.get_commit_position(filter_exclude=()) == head


def test_repeating_an_append_at_the_same_exact_revision_writes_nothing(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(1), StreamState.NO_STREAM)
    event = new_events(1)[0]
    original = append_one(kurrent_client, stream, event, 0)

    again = append_one(kurrent_client, stream, event, 0)

    assert again == original
    assert kurrent_client.get_current_version(stream) == 1


def test_retrying_an_older_append_after_later_ones_returns_its_original_position(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    first, batch, later = new_events(1), new_events(2), new_events(1)
    append(kurrent_client, stream, first, StreamState.NO_STREAM)
    original = append(kurrent_client, stream, batch, 0)
    append(kurrent_client, stream, later, 2)

    again = append(kurrent_client, stream, batch, 0)

    assert again == original
    assert kurrent_client.get_current_version(stream) == 3


def test_repeating_known_ids_plus_a_new_one_is_a_wrong_version(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    events = new_events(2)
    append(kurrent_client, stream, events, StreamState.NO_STREAM)

    with pytest.raises(WrongCurrentVersionError) as raised:
        append(kurrent_client, stream, [*events, *new_events(1)], StreamState.NO_STREAM)

    assert raised.value.actual_version == 1
    assert kurrent_client.get_current_version(stream) == 1


def test_the_same_event_id_in_two_streams_is_two_events(
    kurrent_client: KurrentDBClient,
) -> None:
    first, second = stream_name(), stream_name()
    event = new_events(1)[0]

    position_1 = append_one(kurrent_client, first, event, StreamState.NO_STREAM)
    position_2 = append_one(kurrent_client, second, event, StreamState.NO_STREAM)

    assert position_2 > position_1
    assert kurrent_client.get_stream(first)[0].id == event.id
    assert kurrent_client.get_stream(second)[0].id == event.id


@pytest.mark.parametrize("rpc", ["Append", "BatchAppend"])
def test_content_type_data_and_metadata_bytes_come_back_exactly_as_written(
    kurrent_client: KurrentDBClient, rpc: str
) -> None:
    stream = stream_name()
    written = [
        NewEvent(
            type="BinaryAttached",
            data=bytes(range(256)) + b"\x00",
            metadata=b"\xff\xfe\x00 not utf-8",
            content_type="application/octet-stream",
        ),
        NewEvent(type="JsonRecorded", data='{"name": "Zoë ✓"}'.encode(), metadata=b"{}"),
        NewEvent(type="EmptyRecorded", data=b"", metadata=b""),
    ]
    for event in written:
        append_via(rpc, kurrent_client, stream, event, StreamState.ANY)

    read = kurrent_client.get_stream(stream)

    assert [(e.id, e.type, e.data, e.metadata, e.content_type) for e in read] == [
        (e.id, e.type, e.data, e.metadata, e.content_type) for e in written
    ]
    assert all(e.stream_name == stream and e.recorded_at is not None for e in read)


@pytest.mark.parametrize(
    "existing",
    [
        pytest.param(False, id="new stream"),
        pytest.param(True, id="existing stream"),
    ],
)
def test_appending_no_events_writes_nothing_and_does_not_fail(
    kurrent_client: KurrentDBClient, existing: bool
) -> None:
    stream = stream_name()
    if existing:
        append(kurrent_client, stream, new_events(2))

    append(kurrent_client, stream, [], StreamState.ANY)

    assert kurrent_client.get_current_version(stream) == (1 if existing else StreamState.NO_STREAM)
