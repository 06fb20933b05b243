"""Soft delete, tombstones and stream metadata through the real client, with KurrentDB's errors."""

from __future__ import annotations

import json

import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.exceptions import (
    FailedPreconditionError,
    NotFoundError,
    StreamIsDeletedError,
    WrongCurrentVersionError,
)

from tests.integration.kurrent_helpers import append, append_one, new_events, stream_name


@pytest.fixture
def stream(kurrent_client: KurrentDBClient) -> str:
    """A stream holding revisions 0 and 1."""
    name = stream_name()
    append(kurrent_client, name, new_events(2), StreamState.NO_STREAM)
    return name


def test_reading_a_soft_deleted_stream_raises_not_found(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.delete_stream(stream, current_version=1)

    with pytest.raises(NotFoundError):
        kurrent_client.get_stream(stream)
    assert kurrent_client.get_current_version(stream) is StreamState.NO_STREAM


def test_soft_delete_is_recorded_as_truncate_before_in_stream_metadata(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.delete_stream(stream, current_version=StreamState.ANY)

    metadata, _ = kurrent_client.get_stream_metadata(stream)

    assert isinstance(metadata.get("$tb"), int)


def test_appending_to_a_soft_deleted_stream_recreates_it_after_the_old_revisions(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.delete_stream(stream, current_version=StreamState.EXISTS)
    event = new_events(1)[0]

    append_one(kurrent_client, stream, event, StreamState.NO_STREAM)

    read = kurrent_client.get_stream(stream)
    assert [(e.id, e.stream_position) for e in read] == [(event.id, 2)]


def test_deleting_with_a_wrong_expected_version_raises_with_the_actual_version(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    with pytest.raises(WrongCurrentVersionError) as raised:
        kurrent_client.delete_stream(stream, current_version=0)

    assert raised.value.actual_version == 1
    assert raised.value.expected_version == 0
    assert len(kurrent_client.get_stream(stream)) == 2


def test_tombstoning_with_a_wrong_expected_version_raises_with_the_actual_version(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    with pytest.raises(WrongCurrentVersionError) as raised:
        kurrent_client.tombstone_stream(stream, current_version=5)

    assert raised.value.actual_version == 1
    assert len(kurrent_client.get_stream(stream)) == 2


@pytest.mark.parametrize(
    "expected",
    [StreamState.ANY, StreamState.EXISTS, 0],
    ids=["any", "stream exists", "revision"],
)
def test_deleting_a_stream_that_never_existed_raises_not_found(
    kurrent_client: KurrentDBClient, expected: int | StreamState
) -> None:
    with pytest.raises(NotFoundError):
        kurrent_client.delete_stream(stream_name(), current_version=expected)


def test_tombstoning_a_stream_that_never_existed_with_any_then_appending_fails(
    kurrent_client: KurrentDBClient,
) -> None:
    name = stream_name()
    kurrent_client.tombstone_stream(name, current_version=StreamState.ANY)

    with pytest.raises(StreamIsDeletedError):
        append(kurrent_client, name, new_events(1))


def test_appending_to_a_tombstoned_stream_raises_stream_is_deleted(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.tombstone_stream(stream, current_version=1)

    with pytest.raises(StreamIsDeletedError):
        append(kurrent_client, stream, new_events(2), StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        append(kurrent_client, stream, new_events(1), StreamState.NO_STREAM)


def test_appending_one_event_to_a_tombstoned_stream_fails_as_deleted(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    # The Append RPC answers FAILED_PRECONDITION "Event stream '...' is deleted."; the client's
    # Append path (unlike BatchAppend's) turns that into FailedPreconditionError.
    kurrent_client.tombstone_stream(stream, current_version=1)

    with pytest.raises((StreamIsDeletedError, FailedPreconditionError)) as raised:
        append_one(kurrent_client, stream, new_events(1)[0])

    assert "is deleted" in str(raised.value)


def test_reading_a_tombstoned_stream_raises_stream_is_deleted(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.tombstone_stream(stream, current_version=StreamState.EXISTS)

    with pytest.raises(StreamIsDeletedError):
        kurrent_client.get_stream(stream)


def test_deleting_or_tombstoning_a_tombstoned_stream_raises_stream_is_deleted(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.tombstone_stream(stream, current_version=1)

    with pytest.raises(StreamIsDeletedError):
        kurrent_client.tombstone_stream(stream, current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        kurrent_client.delete_stream(stream, current_version=StreamState.ANY)


def test_stream_metadata_is_a_metadata_event_in_the_dollar_dollar_stream(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    assert kurrent_client.get_stream_metadata(stream) == ({}, StreamState.NO_STREAM)

    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 5, "owner": "case-team"})
    kurrent_client.set_stream_metadata(stream, metadata={"owner": "ops"}, current_version=0)

    assert kurrent_client.get_stream_metadata(stream) == ({"owner": "ops"}, 1)
    recorded = kurrent_client.get_stream(f"$${stream}")
    assert [e.type for e in recorded] == ["$metadata", "$metadata"]
    assert json.loads(recorded[0].data) == {"$maxCount": 5, "owner": "case-team"}
    assert len(kurrent_client.get_stream(stream)) == 2


def test_setting_stream_metadata_with_a_stale_version_raises_with_the_actual_version(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"a": 1})

    with pytest.raises(WrongCurrentVersionError) as raised:
        kurrent_client.set_stream_metadata(
            stream, metadata={"a": 2}, current_version=StreamState.NO_STREAM
        )

    assert raised.value.actual_version == 0


def test_a_tombstoned_streams_metadata_is_deleted_with_it(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    # KurrentDB treats `$$<stream>` of a hard-deleted stream as deleted too; the client's own
    # StreamIsDeletedError docs list "getting or setting metadata for a stream that has been
    # tombstoned". Setting goes through the Append RPC, hence either exception class.
    kurrent_client.tombstone_stream(stream, current_version=1)

    with pytest.raises((StreamIsDeletedError, FailedPreconditionError)):
        kurrent_client.set_stream_metadata(stream, metadata={"owner": "ops"})
    with pytest.raises(StreamIsDeletedError):
        kurrent_client.get_stream_metadata(stream)
