"""Many clients appending at once: never two events at one revision, no acknowledged event lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID

from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.exceptions import WrongCurrentVersionError

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from tests.support.kurrent_helpers import append, append_one, new_events, stream_name

WRITERS = 4
APPENDS_PER_WRITER = 8

Write = Callable[[KurrentDBClient, int, int], list[UUID]]
"""One writer's n-th append: (client, writer index, n) -> the acknowledged event ids."""


def _run_writers(url: str, write: Write) -> list[list[UUID]]:
    """Run WRITERS threads, each with its own client; returns each one's acknowledged ids."""
    acknowledged: list[list[UUID]] = [[] for _ in range(WRITERS)]
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        client = KurrentDBClient(uri=url)
        try:
            for n in range(APPENDS_PER_WRITER):
                acknowledged[index].extend(write(client, index, n))
        except BaseException as e:
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return acknowledged


def test_concurrent_optimistic_appends_to_one_stream_never_share_a_revision(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    stream = stream_name()

    def write(client: KurrentDBClient, index: int, n: int) -> list[UUID]:
        events = new_events(1 + (index + n) % 3)
        while True:
            version = client.get_current_version(stream)
            try:
                if len(events) == 1:
                    append_one(client, stream, events[0], version)
                else:
                    append(client, stream, events, version)
            except WrongCurrentVersionError:
                continue
            return [e.id for e in events]

    acknowledged = _run_writers(embedded_server.url, write)

    read = kurrent_client.get_stream(stream)
    assert [e.stream_position for e in read] == list(range(len(read)))
    assert sorted(e.id for e in read) == sorted(i for ids in acknowledged for i in ids)


def test_concurrent_unchecked_appends_to_one_stream_keep_every_event(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    stream = stream_name()

    def write(client: KurrentDBClient, index: int, n: int) -> list[UUID]:
        events = new_events(1 + n % 2)
        append(client, stream, events, StreamState.ANY)
        return [e.id for e in events]

    acknowledged = _run_writers(embedded_server.url, write)

    read = kurrent_client.get_stream(stream)
    assert [e.stream_position for e in read] == list(range(len(read)))
    assert sorted(e.id for e in read) == sorted(i for ids in acknowledged for i in ids)
    for ids in acknowledged:  # each writer's events keep its order
        mine = [e.id for e in read if e.id in set(ids)]
        assert mine == ids


def test_concurrent_appends_to_different_streams_lose_nothing(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    streams = [stream_name() for _ in range(WRITERS)]

    def write(client: KurrentDBClient, index: int, n: int) -> list[UUID]:
        events = new_events(2)
        current = StreamState.NO_STREAM if n == 0 else 2 * n - 1
        append(client, streams[index], events, current)
        return [e.id for e in events]

    acknowledged = _run_writers(embedded_server.url, write)

    for stream, ids in zip(streams, acknowledged, strict=True):
        read = kurrent_client.get_stream(stream)
        assert [e.id for e in read] == ids
        assert [e.stream_position for e in read] == list(range(2 * APPENDS_PER_WRITER))
    with kurrent_client.read_all() as everything:
        positions = [e.commit_position for e in everything]
    assert len(positions) == WRITERS * 2 * APPENDS_PER_WRITER
    assert positions == sorted(set(positions))
