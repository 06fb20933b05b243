"""Hundreds of random, well-formed requests with edge values (tests/support/random_requests.py)
against every write and read the store serves: each is answered with a status that says what
was wrong or with a result — never UNKNOWN or INTERNAL, i.e. never an unhandled exception —
and the store stays intact. (KurrentDB's own answer to a read of `$all` from a position where
no event is, UNKNOWN "Unexpected ReadAllResult: InvalidPosition", is the one exception.)"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.protos.v1 import streams_pb2_grpc
from kurrentdbclient.protos.v2.streams import streams_pb2_grpc as v2_grpc

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from tests.support.random_requests import RandomRequests

ROUNDS = 120
KURRENTDBS_OWN = ("Unexpected ReadAllResult: InvalidPosition", "Unexpected FilteredReadAllResult")

Call = Callable[[RandomRequests, streams_pb2_grpc.StreamsStub, v2_grpc.StreamsServiceStub], object]

CALLS: dict[str, Call] = {
    "AppendRecords": lambda r, v1, v2: v2.AppendRecords(r.append_records(), timeout=5),
    "AppendSession": lambda r, v1, v2: v2.AppendSession(iter(r.append_session()), timeout=5),
    "Append": lambda r, v1, v2: v1.Append(iter(r.append()), timeout=5),
    "Read": lambda r, v1, v2: _first_replies(v1.Read(r.read(), timeout=1)),
    "Delete": lambda r, v1, v2: v1.Delete(r.delete(), timeout=5),
    "Tombstone": lambda r, v1, v2: v1.Tombstone(r.tombstone(), timeout=5),
}


def _first_replies(call: Any, count: int = 2) -> list[object]:
    """A read's first replies, then cancelled: a subscription would otherwise wait for more."""
    try:
        return list(itertools.islice(call, count))
    finally:
        call.cancel()


@pytest.fixture
def channel(embedded_server: EmbeddedServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{embedded_server.port}") as opened:
        yield opened


@pytest.mark.parametrize("method", CALLS)
def test_random_requests_never_end_in_an_unhandled_error(
    method: str, channel: grpc.Channel, embedded_server: EmbeddedServer
) -> None:
    requests = RandomRequests(seed=sum(map(ord, method)))
    v1 = streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
    v2 = v2_grpc.StreamsServiceStub(channel)  # type: ignore[no-untyped-call]
    unhandled = []
    for _ in range(ROUNDS):
        try:
            CALLS[method](requests, v1, v2)
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""  # type: ignore[attr-defined]
            unexpected = code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
            if unexpected and not details.startswith(KURRENTDBS_OWN):
                unhandled.append((code, details))
    assert unhandled == []
    client = KurrentDBClient(uri=embedded_server.url)
    try:
        client.append_to_stream(
            "intact-1", current_version=StreamState.NO_STREAM, events=[NewEvent("t", b"")]
        )
        assert client.get_current_version("intact-1") == 0
    finally:
        client.close()
