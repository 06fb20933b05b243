"""Subscriptions hold a server thread each: past the limit a new one is refused as KurrentDB
refuses it, and appends and reads still get through."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import MaximumSubscriptionsReachedError

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer


def _subscribe_once_a_slot_frees(client: KurrentDBClient) -> Any:
    """The server frees a slot as it sees the cancel: moments later, not at once."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return client.subscribe_to_all(timeout=10)
        except MaximumSubscriptionsReachedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def test_past_the_subscription_limit_a_new_one_is_refused_and_writes_go_on() -> None:
    server = EmbeddedServer.start(None, mem_db=True, max_subscriptions=2)
    client = KurrentDBClient(uri=server.url)
    open_ones = [client.subscribe_to_all(timeout=10) for _ in range(2)]
    try:
        with pytest.raises(MaximumSubscriptionsReachedError):
            client.subscribe_to_all(timeout=10)
        client.append_to_stream(
            "case-1", current_version=StreamState.NO_STREAM, events=[NewEvent(type="t", data=b"")]
        )
        assert client.get_current_version("case-1") == 0
        open_ones.pop().stop()
        open_ones.append(_subscribe_once_a_slot_frees(client))
    finally:
        for subscription in open_ones:
            subscription.stop()
        client.close()
        server.stop(grace=1.0)
