"""`$maxCount` and `$maxAge` in stream metadata, through the real client, as KurrentDB does them.

Events beyond `$maxCount` (oldest first) or older than `$maxAge` seconds are invisible to stream
reads at once, in both directions; `$all` still returns them until a scavenge removes them.
"""

from __future__ import annotations

import time

import pytest
from kurrentdbclient import KurrentDBClient, StreamState

from tests.support.kurrent_helpers import (
    SUBSCRIPTION_DEADLINE,
    append,
    new_events,
    stream_name,
    take,
)


@pytest.fixture
def stream(kurrent_client: KurrentDBClient) -> str:
    """A stream holding revisions 0 to 4."""
    name = stream_name()
    append(kurrent_client, name, new_events(5), StreamState.NO_STREAM)
    return name


def revisions(
    client: KurrentDBClient,
    stream: str,
    *,
    backwards: bool = False,
    stream_position: int | None = None,
    limit: int = 2**63 - 1,
) -> list[int]:
    read = client.get_stream(
        stream, backwards=backwards, stream_position=stream_position, limit=limit
    )
    return [e.stream_position for e in read]


def test_max_count_leaves_only_the_newest_events_in_a_forward_read(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 2})

    assert revisions(kurrent_client, stream) == [3, 4]


def test_max_count_leaves_only_the_newest_events_in_a_backward_read(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 2})

    assert revisions(kurrent_client, stream, backwards=True) == [4, 3]
    assert revisions(kurrent_client, stream, backwards=True, stream_position=1) == []


def test_a_read_from_a_revision_beyond_max_count_starts_at_the_oldest_visible_event(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 3})

    assert revisions(kurrent_client, stream, stream_position=1, limit=2) == [2, 3]


def test_max_count_slides_as_events_are_appended(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 2})
    append(kurrent_client, stream, new_events(1))

    assert revisions(kurrent_client, stream) == [4, 5]


def test_events_hidden_by_max_count_stay_in_reads_of_all_until_scavenged(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 1})

    in_all = [e.stream_position for e in kurrent_client.read_all() if e.stream_name == stream]

    assert in_all == [0, 1, 2, 3, 4]


def test_raising_max_count_shows_unscavenged_events_again(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 1})
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 4})

    assert revisions(kurrent_client, stream) == [1, 2, 3, 4]


def test_truncate_before_and_max_count_together_hide_up_to_the_later_of_the_two(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 4, "$tb": 3})
    assert revisions(kurrent_client, stream) == [3, 4]

    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 2, "$tb": 1})
    assert revisions(kurrent_client, stream) == [3, 4]


def test_max_count_does_not_change_the_streams_current_version(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 1})

    assert kurrent_client.get_current_version(stream) == 4


def test_a_catch_up_subscription_to_a_stream_starts_at_its_oldest_visible_event(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 2})

    with kurrent_client.subscribe_to_stream(stream, timeout=SUBSCRIPTION_DEADLINE) as events:
        assert [e.stream_position for e in take(events, 2)] == [3, 4]


def test_max_age_hides_events_older_than_it_from_reads_in_both_directions(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxAge": 1})
    time.sleep(1.2)
    append(kurrent_client, stream, new_events(2))

    assert revisions(kurrent_client, stream) == [5, 6]
    assert revisions(kurrent_client, stream, backwards=True) == [6, 5]
    in_all = [e.stream_position for e in kurrent_client.read_all() if e.stream_name == stream]
    assert in_all == [0, 1, 2, 3, 4, 5, 6]


def test_a_stream_whose_events_are_all_older_than_max_age_reads_as_empty_not_missing(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxAge": 1})
    time.sleep(1.2)

    assert revisions(kurrent_client, stream) == []
    assert revisions(kurrent_client, stream, backwards=True) == []
    append(kurrent_client, stream, new_events(1), current_version=4)
    assert revisions(kurrent_client, stream) == [5]


def test_malformed_max_count_and_max_age_are_ignored(
    kurrent_client: KurrentDBClient, stream: str
) -> None:
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": "two", "$maxAge": [1]})

    assert revisions(kurrent_client, stream) == [0, 1, 2, 3, 4]
