"""Soft delete, tombstones and stream metadata through the real client, with KurrentDB's errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.exceptions import (
    FailedPreconditionError,
    NotFoundError,
    StreamIsDeletedError,
    WrongCurrentVersionError,
)

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from tests.support.kurrent_helpers import append, append_one, new_events, stream_name


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


def test_soft_delete_sets_truncate_before_to_the_largest_long_as_the_whole_metadata(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"owner": "ops", "$maxCount": 9})

    kurrent_client.delete_stream(stream, current_version=StreamState.ANY)

    assert kurrent_client.get_stream_metadata(stream) == ({"$tb": 2**63 - 1}, 1)


def test_recreating_a_soft_deleted_stream_writes_truncate_before_at_its_first_new_revision(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.delete_stream(stream, current_version=1)
    events = new_events(3)

    append(kurrent_client, stream, events, StreamState.ANY)

    read = kurrent_client.get_stream(stream)
    assert [(e.id, e.stream_position) for e in read] == [(e.id, i) for i, e in enumerate(events, 2)]
    assert kurrent_client.get_stream_metadata(stream) == ({"$tb": 2}, 1)
    assert kurrent_client.get_current_version(stream) == 4


def test_recreating_keeps_the_other_metadata_and_replaces_only_truncate_before(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    # Soft-deleted by metadata alone: $tb at the largest long, as a delete writes it.
    kept = {"$maxCount": 100, "$acl": {"$d": "some-role"}, "key": "some value"}
    kurrent_client.set_stream_metadata(stream, metadata={**kept, "$tb": 2**63 - 1})
    assert kurrent_client.get_current_version(stream) is StreamState.NO_STREAM

    append(kurrent_client, stream, new_events(3), current_version=1)

    assert [e.stream_position for e in kurrent_client.get_stream(stream)] == [2, 3, 4]
    assert kurrent_client.get_stream_metadata(stream) == ({**kept, "$tb": 2}, 1)


def test_a_recreated_stream_is_live_again_so_no_stream_is_then_a_wrong_version(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.delete_stream(stream, current_version=1)
    append(kurrent_client, stream, new_events(3), StreamState.NO_STREAM)

    with pytest.raises(WrongCurrentVersionError) as raised:
        append(kurrent_client, stream, new_events(1), StreamState.NO_STREAM)

    assert raised.value.actual_version == 4


def test_a_soft_deleted_streams_metadata_still_reads_and_writes(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.delete_stream(stream, current_version=1)

    assert kurrent_client.get_stream_metadata(stream) == ({"$tb": 2**63 - 1}, 0)
    assert [e.type for e in kurrent_client.get_stream(f"$${stream}")] == ["$metadata"]


def test_setting_metadata_on_a_soft_deleted_stream_undeletes_it_empty(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    # KurrentDB writes the new metadata, then the same with $tb after the last revision.
    kurrent_client.delete_stream(stream, current_version=1)

    kurrent_client.set_stream_metadata(stream, metadata={"owner": "ops"}, current_version=0)

    assert kurrent_client.get_stream(stream) == ()
    assert kurrent_client.get_stream_metadata(stream) == ({"owner": "ops", "$tb": 2}, 2)
    recorded = kurrent_client.get_stream(f"$${stream}")
    assert [json.loads(e.data) for e in recorded][1:] == [
        {"owner": "ops"},
        {"owner": "ops", "$tb": 2},
    ]


def test_a_stream_truncated_past_its_last_event_reads_empty_not_missing(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$tb": 7})

    assert kurrent_client.get_stream(stream) == ()
    with pytest.raises(WrongCurrentVersionError) as raised:
        append(kurrent_client, stream, new_events(1), StreamState.NO_STREAM)
    assert raised.value.actual_version == 1


def test_a_stream_with_metadata_but_no_events_passes_expected_exists(
    kurrent_client: KurrentDBClient,
) -> None:
    name = stream_name()
    kurrent_client.set_stream_metadata(name, metadata={"owner": "ops"})

    append(kurrent_client, name, new_events(1), StreamState.EXISTS)

    assert kurrent_client.get_current_version(name) == 0


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


def test_a_soft_deleted_stream_is_still_deleted_after_a_restart_and_recreates_then(
    tmp_path: Path,
) -> None:
    data_dir, name = tmp_path / "eventstore", stream_name()
    server = EmbeddedServer.start(data_dir)
    client = KurrentDBClient(uri=server.url)
    append(client, name, new_events(2), StreamState.NO_STREAM)
    client.delete_stream(name, current_version=1)
    client.close()
    server.stop(grace=1.0)

    server = EmbeddedServer.start(data_dir)
    client = KurrentDBClient(uri=server.url)
    try:
        with pytest.raises(NotFoundError):
            client.get_stream(name)
        with pytest.raises(StreamIsDeletedError):
            append(client, name, new_events(1), StreamState.EXISTS)
        append(client, name, new_events(1), StreamState.NO_STREAM)
        assert [e.stream_position for e in client.get_stream(name)] == [2]
        assert client.get_stream_metadata(name) == ({"$tb": 2}, 1)
    finally:
        client.close()
        server.stop(grace=1.0)
