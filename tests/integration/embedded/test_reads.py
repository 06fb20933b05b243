"""Reads of a stream and of `$all` through the real client: directions, starts, limits, filters,
and the system events KurrentDB writes at start-up."""

from __future__ import annotations

from typing import Any

import pytest
from kurrentdbclient import DEFAULT_EXCLUDE_FILTER, KurrentDBClient, RecordedEvent, StreamState
from kurrentdbclient.exceptions import InvalidCommitPositionError, NotFoundError

from tests.support.kurrent_helpers import append, new_events, stream_name


@pytest.fixture
def three_events(kurrent_client: KurrentDBClient) -> tuple[str, list[RecordedEvent]]:
    stream = stream_name()
    append(kurrent_client, stream, new_events(3), StreamState.NO_STREAM)
    return stream, list(kurrent_client.get_stream(stream))


def _all(client: KurrentDBClient, **kwargs: Any) -> list[RecordedEvent]:
    with client.read_all(**kwargs) as events:
        return list(events)


def test_read_stream_forwards_from_the_start(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    stream, _ = three_events

    assert [e.stream_position for e in kurrent_client.get_stream(stream)] == [0, 1, 2]


def test_read_stream_backwards_from_the_end(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    stream, _ = three_events

    read = kurrent_client.get_stream(stream, backwards=True)

    assert [e.stream_position for e in read] == [2, 1, 0]


def test_read_stream_forwards_from_a_revision_includes_it(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    stream, _ = three_events

    read = kurrent_client.get_stream(stream, stream_position=1)

    assert [e.stream_position for e in read] == [1, 2]


def test_read_stream_backwards_from_a_revision_includes_it(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    stream, _ = three_events

    read = kurrent_client.get_stream(stream, stream_position=1, backwards=True)

    assert [e.stream_position for e in read] == [1, 0]


@pytest.mark.parametrize(("backwards", "expected"), [(False, [0, 1]), (True, [2, 1])])
def test_read_stream_with_a_limit(
    kurrent_client: KurrentDBClient,
    three_events: tuple[str, list[RecordedEvent]],
    backwards: bool,
    expected: list[int],
) -> None:
    stream, _ = three_events

    read = kurrent_client.get_stream(stream, limit=2, backwards=backwards)

    assert [e.stream_position for e in read] == expected


def test_read_stream_past_its_end_is_empty(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    stream, _ = three_events

    assert kurrent_client.get_stream(stream, stream_position=3) == ()


def test_reading_a_stream_that_never_existed_raises_not_found(
    kurrent_client: KurrentDBClient,
) -> None:
    with pytest.raises(NotFoundError):
        kurrent_client.get_stream(stream_name())
    assert kurrent_client.get_current_version(stream_name()) is StreamState.NO_STREAM


def test_read_all_forwards_from_the_start_in_commit_order(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    _, written = three_events

    read = _all(kurrent_client)

    assert [e.id for e in read] == [e.id for e in written]


def test_read_all_backwards_from_the_end(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    _, written = three_events

    read = _all(kurrent_client, backwards=True)

    assert [e.id for e in read] == [e.id for e in reversed(written)]


def test_read_all_forwards_from_a_position_includes_the_event_at_it(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    # kurrentdbclient's README, against KurrentDB: "When reading forwards from a specific
    # commit position, the event at the specified position will be included."
    _, (_, second, third) = three_events

    read = _all(kurrent_client, commit_position=second.commit_position)

    assert [e.id for e in read] == [second.id, third.id]


def test_read_all_backwards_from_a_position_excludes_the_event_at_it(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    # The same README: "When reading backwards, the event at the commit position will not be
    # included."
    _, (first, second, _) = three_events

    read = _all(kurrent_client, commit_position=second.commit_position, backwards=True)

    assert [e.id for e in read] == [first.id]


@pytest.mark.parametrize(("backwards", "expected"), [(False, [0, 1]), (True, [2, 1])])
def test_read_all_with_a_limit(
    kurrent_client: KurrentDBClient,
    three_events: tuple[str, list[RecordedEvent]],
    backwards: bool,
    expected: list[int],
) -> None:
    read = _all(kurrent_client, limit=2, backwards=backwards)

    assert [e.stream_position for e in read] == expected


def test_system_events_written_at_start_up_are_in_all(kurrent_client: KurrentDBClient) -> None:
    everything = _all(kurrent_client, filter_exclude=())

    assert any(e.type.startswith("$") for e in everything)
    assert _all(kurrent_client) == []  # the client's default filter excludes them
    assert kurrent_client.get_commit_position() == 0
    assert kurrent_client.get_commit_position(filter_exclude=()) > 0


def test_the_default_exclude_filter_keeps_user_events_and_drops_system_ones(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(2))
    kurrent_client.set_stream_metadata(stream, metadata={"$maxCount": 10})

    read = _all(kurrent_client)

    assert [e.stream_name for e in read] == [stream, stream]
    assert any(e.type == "$metadata" for e in _all(kurrent_client, filter_exclude=()))


@pytest.fixture
def mixed(kurrent_client: KurrentDBClient) -> dict[str, str]:
    """Streams and event types for the filter tests: name -> event type."""
    layout = {
        "order-1": "OrderPlaced",
        "order-2": "OrderShipped",
        "invoice-1": "InvoiceCreated",
        "orderline-1": "LineCreated",
        "customer-1": "CustomerRenamed",
    }
    for stream, type_ in layout.items():
        append(kurrent_client, stream, new_events(1, type_), StreamState.NO_STREAM)
    return layout


def test_event_type_regex_include_filter(
    kurrent_client: KurrentDBClient, mixed: dict[str, str]
) -> None:
    read = _all(kurrent_client, filter_include=[r"Order.*"])

    assert [e.type for e in read] == ["OrderPlaced", "OrderShipped"]


def test_event_type_regex_exclude_filter(
    kurrent_client: KurrentDBClient, mixed: dict[str, str]
) -> None:
    read = _all(kurrent_client, filter_exclude=[*DEFAULT_EXCLUDE_FILTER, r"Order.*", r".*Created"])

    assert [e.type for e in read] == ["CustomerRenamed"]


def test_stream_name_regex_include_filter(
    kurrent_client: KurrentDBClient, mixed: dict[str, str]
) -> None:
    read = _all(kurrent_client, filter_include=[r"order-\d+"], filter_by_stream_name=True)

    assert [e.stream_name for e in read] == ["order-1", "order-2"]


def test_regex_filters_match_as_a_search_not_a_full_match(
    kurrent_client: KurrentDBClient, mixed: dict[str, str]
) -> None:
    # The client joins include patterns as "^Order|Created$": as a search that is "starts with
    # Order or ends with Created"; as a full match it would match neither type here. The
    # client's exclude regex is a zero-width lookahead that only a search can match at all.
    read = _all(kurrent_client, filter_include=["Order", "Created"])
    kept = _all(kurrent_client, filter_exclude=[*DEFAULT_EXCLUDE_FILTER, "Order.*"])

    assert [e.type for e in read] == [
        "OrderPlaced",
        "OrderShipped",
        "InvoiceCreated",
        "LineCreated",
    ]
    assert [e.type for e in kept] == ["InvoiceCreated", "LineCreated", "CustomerRenamed"]


def test_stream_name_prefix_filter(kurrent_client: KurrentDBClient, mixed: dict[str, str]) -> None:
    read = _all(
        kurrent_client,
        filter_include=["order-", "customer-"],
        filter_by_stream_name=True,
        filter_by_prefix=True,
    )

    assert [e.stream_name for e in read] == ["order-1", "order-2", "customer-1"]


def test_event_type_prefix_filter(kurrent_client: KurrentDBClient, mixed: dict[str, str]) -> None:
    read = _all(kurrent_client, filter_include=["Invoice", "Line"], filter_by_prefix=True)

    assert [e.type for e in read] == ["InvoiceCreated", "LineCreated"]


def test_limit_applies_after_filtering(
    kurrent_client: KurrentDBClient, mixed: dict[str, str]
) -> None:
    read = _all(kurrent_client, filter_include=[r".*Created"], limit=1, backwards=True)

    assert [e.type for e in read] == ["LineCreated"]


def test_read_all_from_a_position_where_no_event_is_raises_invalid_commit_position(
    kurrent_client: KurrentDBClient, three_events: tuple[str, list[RecordedEvent]]
) -> None:
    # KurrentDB >= 25.1 answers "Unexpected FilteredReadAllResult: InvalidPosition"; the
    # client's README: the position "must be an actually existing commit position".
    _, (first, _, _) = three_events

    with pytest.raises(InvalidCommitPositionError):
        _all(kurrent_client, commit_position=first.commit_position + 1)
