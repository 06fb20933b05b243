"""Finite reads of a stream or of `$all`, with KurrentDB's start points and limits.

Stream reads include the revision they start from, in either direction. `$all` reads forwards
include the event at the position they start from; backwards they start just before it.
"""

from __future__ import annotations

from collections.abc import Iterator

from kurrentdbclient.protos.v1 import streams_pb2

from caseledger.adapters.eventstore.embedded import messages as msg
from caseledger.adapters.eventstore.embedded.database import LARGEST
from caseledger.adapters.eventstore.embedded.filters import EventFilter
from caseledger.adapters.eventstore.embedded.records import StreamState
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore

Options = streams_pb2.ReadReq.Options


class InvalidPosition(Exception):
    """A read of `$all` from a position where no event is (KurrentDB refuses it too)."""

    def __init__(self, filtered: bool) -> None:
        kind = "FilteredReadAllResult" if filtered else "ReadAllResult"
        super().__init__(f"Unexpected {kind}: InvalidPosition")


def read_stream(
    store: EmbeddedStore,
    stream: str,
    state: StreamState,
    options: Options.StreamOptions,
    forwards: bool,
    count: int,
) -> Iterator[streams_pb2.ReadResp]:
    if not state.is_readable:
        yield msg.stream_not_found(stream)
        return
    which = options.WhichOneof("revision_option")
    if which == "revision":
        start = options.revision
    elif which == "end":
        start = state.last_revision + 1 if forwards else state.last_revision
    else:
        start = 0 if forwards else -1
    floor = store.first_visible(stream, state)
    sent = 0
    pages = store.stream_pages(stream, start, forwards=forwards, floor=floor, limit=count)
    for page in pages:
        for event in page:
            if sent >= count:
                return
            yield msg.read_event(event)
            sent += 1


def read_all(
    store: EmbeddedStore,
    options: Options.AllOptions,
    forwards: bool,
    count: int,
    event_filter: EventFilter | None,
) -> Iterator[streams_pb2.ReadResp]:
    which = options.WhichOneof("all_option")
    if which == "position":
        position = options.position.commit_position
        if not store.is_valid_position(position):
            raise InvalidPosition(filtered=event_filter is not None)
        after = position - 1 if forwards else position
    elif which == "end":
        after = LARGEST
    else:
        after = 0
    if (forwards and which == "end") or (not forwards and which == "start"):
        return
    sent = 0
    page_limit = count if event_filter is None else 2**62
    for page in store.all_pages(after, forwards=forwards, limit=page_limit):
        for event in page:
            if sent >= count:
                return
            if event_filter is None or event_filter.matches(event):
                yield msg.read_event(event)
                sent += 1
