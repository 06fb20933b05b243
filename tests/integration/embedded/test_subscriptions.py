"""Catch-up subscriptions through the real client: confirmation, past then live events,
exclusive start positions, caught-up and checkpoint messages, filters."""

from __future__ import annotations

import threading

import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.exceptions import KurrentDBClientError

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from tests.support.kurrent_helpers import (
    SUBSCRIPTION_DEADLINE,
    append,
    append_one,
    new_events,
    stream_name,
    take,
)


def test_stream_subscription_is_confirmed_then_gets_past_then_live_events(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    past = new_events(2)
    append(kurrent_client, stream, past, StreamState.NO_STREAM)

    with kurrent_client.subscribe_to_stream(stream, timeout=SUBSCRIPTION_DEADLINE) as sub:
        assert sub.subscription_id
        assert [e.id for e in take(sub, 2)] == [e.id for e in past]
        live = new_events(1)[0]
        append_one(kurrent_client, stream, live, 1)
        assert next(sub).id == live.id


def test_stream_subscription_to_a_stream_not_yet_written_waits_for_it(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()

    with kurrent_client.subscribe_to_stream(stream, timeout=SUBSCRIPTION_DEADLINE) as sub:
        append(kurrent_client, stream, new_events(2), StreamState.NO_STREAM)
        assert [e.stream_position for e in take(sub, 2)] == [0, 1]


def test_stream_subscription_from_a_revision_excludes_it(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(3), StreamState.NO_STREAM)

    with kurrent_client.subscribe_to_stream(
        stream, stream_position=0, timeout=SUBSCRIPTION_DEADLINE
    ) as sub:
        assert [e.stream_position for e in take(sub, 2)] == [1, 2]


def test_stream_subscription_reports_caught_up_between_past_and_live_events(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(2), StreamState.NO_STREAM)

    with kurrent_client.subscribe_to_stream(
        stream, include_caught_up=True, timeout=SUBSCRIPTION_DEADLINE
    ) as sub:
        first, second, caught_up = take(sub, 3)
        append(kurrent_client, stream, new_events(1), 1)
        live = next(sub)

    assert (first.stream_position, second.stream_position) == (0, 1)
    assert caught_up.is_caught_up
    assert live.stream_position == 2
    assert not live.is_caught_up


def test_all_subscription_gets_past_then_live_events_from_every_stream(
    kurrent_client: KurrentDBClient,
) -> None:
    first, second = stream_name(), stream_name()
    past = new_events(2)
    append(kurrent_client, first, past)

    with kurrent_client.subscribe_to_all(timeout=SUBSCRIPTION_DEADLINE) as sub:
        assert sub.subscription_id
        assert [e.id for e in take(sub, 2)] == [e.id for e in past]
        live = new_events(2)
        append(kurrent_client, second, live)
        received = take(sub, 2)

    assert [e.id for e in received] == [e.id for e in live]
    assert received[0].commit_position > 0
    assert all(e.stream_name == second for e in received)


def test_all_subscription_from_a_position_excludes_the_event_at_it(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(3))
    first, second, third = kurrent_client.get_stream(stream)

    with kurrent_client.subscribe_to_all(
        commit_position=first.commit_position, timeout=SUBSCRIPTION_DEADLINE
    ) as sub:
        assert [e.id for e in take(sub, 2)] == [second.id, third.id]


def test_all_subscription_from_the_end_gets_only_new_events(
    kurrent_client: KurrentDBClient,
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(2))

    with kurrent_client.subscribe_to_all(from_end=True, timeout=SUBSCRIPTION_DEADLINE) as sub:
        live = new_events(1)[0]
        append_one(kurrent_client, stream, live)
        assert next(sub).id == live.id


def test_all_subscription_reports_caught_up(kurrent_client: KurrentDBClient) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(2))

    with kurrent_client.subscribe_to_all(
        include_caught_up=True, timeout=SUBSCRIPTION_DEADLINE
    ) as sub:
        received = take(sub, 3)
        append(kurrent_client, stream, new_events(1))
        live = next(sub)

    assert [e.is_caught_up for e in received] == [False, False, True]
    assert live.stream_position == 2


def test_filtered_all_subscription_sends_checkpoints_at_the_requested_interval(
    kurrent_client: KurrentDBClient,
) -> None:
    for _ in range(6):
        append(kurrent_client, stream_name("noise"), new_events(2))
    head = kurrent_client.get_commit_position(filter_exclude=())
    wanted = stream_name("wanted")

    with kurrent_client.subscribe_to_all(
        filter_include=["wanted-"],
        filter_by_stream_name=True,
        filter_by_prefix=True,
        include_checkpoints=True,
        window_size=2,
        checkpoint_interval_multiplier=1,
        timeout=SUBSCRIPTION_DEADLINE,
    ) as sub:
        checkpoint = next(sub)
        append(kurrent_client, wanted, new_events(1))
        received = next(sub)
        while received.is_checkpoint:
            received = next(sub)

    assert checkpoint.is_checkpoint
    assert checkpoint.commit_position <= head
    assert received.stream_name == wanted


def test_filtered_all_subscription_by_stream_prefix_gets_only_matching_streams(
    kurrent_client: KurrentDBClient,
) -> None:
    wanted, unwanted = stream_name("invoice"), stream_name("order")
    append(kurrent_client, unwanted, new_events(1))
    append(kurrent_client, wanted, new_events(1, "InvoiceCreated"))

    with kurrent_client.subscribe_to_all(
        filter_include=["invoice-"],
        filter_by_stream_name=True,
        filter_by_prefix=True,
        timeout=SUBSCRIPTION_DEADLINE,
    ) as sub:
        assert next(sub).stream_name == wanted
        append(kurrent_client, unwanted, new_events(1))
        append(kurrent_client, wanted, new_events(1, "InvoicePaid"))
        live = next(sub)

    assert (live.stream_name, live.type) == (wanted, "InvoicePaid")


def test_filtered_all_subscription_by_event_type_regex(kurrent_client: KurrentDBClient) -> None:
    stream = stream_name()
    append(kurrent_client, stream, [*new_events(1, "OrderPlaced"), *new_events(1, "Noise")])

    with kurrent_client.subscribe_to_all(
        filter_include=[r"Order.*"], timeout=SUBSCRIPTION_DEADLINE
    ) as sub:
        assert next(sub).type == "OrderPlaced"
        append(kurrent_client, stream, [*new_events(1, "Noise"), *new_events(1, "OrderPaid")])
        assert next(sub).type == "OrderPaid"


def test_stopping_a_subscription_ends_its_iteration(kurrent_client: KurrentDBClient) -> None:
    append(kurrent_client, stream_name(), new_events(1))
    sub = kurrent_client.subscribe_to_all(timeout=SUBSCRIPTION_DEADLINE)
    next(sub)

    sub.stop()

    assert list(sub) == []


def test_all_subscription_misses_and_repeats_nothing_while_appends_race_its_catch_up(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    for _ in range(20):
        append(kurrent_client, stream_name(), new_events(2))
    writer = threading.Thread(target=_append_batches, args=(embedded_server.url, 30))

    with kurrent_client.subscribe_to_all(timeout=SUBSCRIPTION_DEADLINE) as sub:
        writer.start()
        received = take(sub, 40 + 30 * 2)
    writer.join()

    with kurrent_client.read_all() as everything:
        assert [e.id for e in received] == [e.id for e in everything]


def test_stream_subscription_misses_and_repeats_nothing_while_appends_race_its_catch_up(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    stream = stream_name()
    append(kurrent_client, stream, new_events(20))
    writer = threading.Thread(target=_append_batches, args=(embedded_server.url, 30, stream))

    with kurrent_client.subscribe_to_stream(stream, timeout=SUBSCRIPTION_DEADLINE) as sub:
        writer.start()
        received = take(sub, 20 + 30 * 2)
    writer.join()

    assert [e.stream_position for e in received] == list(range(80))


def _append_batches(url: str, batches: int, stream: str | None = None) -> None:
    client = KurrentDBClient(uri=url)
    try:
        for _ in range(batches):
            append(client, stream or stream_name(), new_events(2))
    finally:
        client.close()


def test_a_subscription_cut_off_by_the_server_stopping_raises_rather_than_ending(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    # KurrentDB never ends a catch-up subscription call normally; a clean end would make a
    # consumer's `for event in subscription` finish silently as if it had been stopped.
    append(kurrent_client, stream_name(), new_events(1))
    sub = kurrent_client.subscribe_to_all(timeout=SUBSCRIPTION_DEADLINE)
    next(sub)

    embedded_server.stop(grace=0.5)

    with pytest.raises(KurrentDBClientError):
        next(sub)
