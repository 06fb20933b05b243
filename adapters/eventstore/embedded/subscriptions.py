"""Catch-up subscriptions: confirmation, then history, caught-up, then live events on commit.

A subscription from a position or revision starts just AFTER it (the consumer has processed
it). Filtered `$all` subscriptions send a checkpoint each time `checkpoint_interval` events have
been looked at, so a consumer of rare events can still record its progress. Live events are
pushed by the writer's commit signal, never found by sleep-polling; the wait's timeout only
lets the subscription notice that its caller has gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kurrentdbclient.protos.v1 import streams_pb2

from caseledger.adapters.eventstore.embedded import messages as msg
from caseledger.adapters.eventstore.embedded.database import LARGEST
from caseledger.adapters.eventstore.embedded.filters import EventFilter
from caseledger.adapters.eventstore.embedded.records import EventRecord
from caseledger.adapters.eventstore.embedded.store import PAGE, EmbeddedStore, StoreReads

Options = streams_pb2.ReadReq.Options
WAKE_EVERY = 0.5
"""Seconds between checks that the caller is still there, when nothing is committed."""


class StoreShuttingDown(Exception):
    """The store is stopping: a subscription ends with an error, never as if it were done."""


@dataclass(frozen=True, slots=True)
class Looked:
    """The subscription has looked at everything in `$all` up to `position` (a checkpoint, or
    with `caught_up` the end of the history it found)."""

    position: int
    caught_up: bool = False


def follow_all(
    store: StoreReads,
    after: int,
    event_filter: EventFilter | None,
    alive: Callable[[], bool],
) -> Iterator[EventRecord | Looked]:
    """`$all` after `after` in commit order, then live events as commits signal them, with
    checkpoints (filtered only) and one caught-up between: the gRPC subscription and the
    in-process adapter both iterate this (`follow_all_pages`, item by item)."""
    for page in follow_all_pages(store, after, event_filter, alive):
        yield from page


def follow_all_pages(
    store: StoreReads,
    after: int,
    event_filter: EventFilter | None,
    alive: Callable[[], bool],
    page_size: int = PAGE,
) -> Iterator[list[EventRecord | Looked]]:
    """`follow_all` a page of storage at a time: what one query of at most `page_size`
    events of `$all` found (the events the filter keeps and the checkpoints among them), then
    the caught-up alone. A page may be empty (nothing in it matched)."""
    cursor = after
    scanned = 0
    caught_up = False
    while alive():
        if store.signal.closed:
            raise StoreShuttingDown("Server is shutting down")
        for page in store.all_pages(cursor, forwards=True, page=page_size):
            items: list[EventRecord | Looked] = []
            for event in page:
                cursor = event.position
                if event_filter is None or event_filter.matches(event):
                    items.append(event)
                if event_filter is not None:
                    scanned += 1
                    if scanned >= event_filter.checkpoint_interval:
                        scanned = 0
                        items.append(Looked(cursor))
            yield items
        if not caught_up:
            caught_up = True
            yield [Looked(cursor, caught_up=True)]
        store.signal.wait_beyond(cursor, WAKE_EVERY, gone=lambda: not alive())


def subscribe_all(
    store: EmbeddedStore,
    options: Options.AllOptions,
    event_filter: EventFilter | None,
    alive: Callable[[], bool],
) -> Iterator[streams_pb2.ReadResp]:
    yield msg.confirmation()
    which = options.WhichOneof("all_option")
    if which == "position":
        cursor = options.position.commit_position
    elif which == "end":
        cursor = store.head
    else:
        cursor = 0
    for item in follow_all(store, cursor, event_filter, alive):
        if isinstance(item, EventRecord):
            yield msg.read_event(item)
        elif item.caught_up:
            yield msg.caught_up_all(item.position)
        else:
            yield msg.checkpoint(item.position)


def subscribe_stream(
    store: EmbeddedStore,
    stream: str,
    options: Options.StreamOptions,
    alive: Callable[[], bool],
) -> Iterator[streams_pb2.ReadResp]:
    yield msg.confirmation()
    which = options.WhichOneof("revision_option")
    if which == "revision":  # a uint64; caught-up replies carry an int64, and no revision
        next_revision = min(options.revision, LARGEST) + 1  # is past 2**63 - 1 anyway
    elif which == "end":
        next_revision = store.stream_state(stream).last_revision + 1
    else:
        next_revision = 0
    caught_up = False
    while alive():
        if store.signal.closed:
            raise StoreShuttingDown("Server is shutting down")
        seen_head = store.head
        state = store.stream_state(stream)
        floor = store.first_visible(stream, state)
        for page in store.stream_pages(stream, next_revision, forwards=True, floor=floor):
            for event in page:
                next_revision = event.revision + 1
                yield msg.read_event(event)
        if not caught_up:
            caught_up = True
            yield msg.caught_up_stream(max(next_revision - 1, 0))
        store.signal.wait_beyond(seen_head, WAKE_EVERY, gone=lambda: not alive())
