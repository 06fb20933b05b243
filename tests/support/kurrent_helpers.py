"""Small helpers for the protocol tests that drive the embedded store with the real client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

from kurrentdbclient import NewEvent, RecordedEvent, StreamState
from kurrentdbclient.client import KurrentDBClient

SUBSCRIPTION_DEADLINE = 10.0
"""gRPC deadline for subscriptions in tests: a missing event fails the test, never hangs it."""


def stream_name(prefix: str = "order") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_events(n: int, type_: str = "OrderUpdated") -> list[NewEvent]:
    return [NewEvent(type=type_, data=f'{{"n": {i}}}'.encode()) for i in range(n)]


def append(
    client: KurrentDBClient,
    stream: str,
    events: list[NewEvent],
    current_version: int | StreamState = StreamState.ANY,
) -> int:
    """Append through BatchAppend (a list) — see `append_one` for the Append RPC."""
    return client.append_to_stream(stream, events=events, current_version=current_version)


def append_one(
    client: KurrentDBClient,
    stream: str,
    event: NewEvent,
    current_version: int | StreamState = StreamState.ANY,
) -> int:
    """Append one event through the Append RPC (the client sends a lone NewEvent there)."""
    return client.append_to_stream(stream, events=event, current_version=current_version)


def take(events: Iterator[RecordedEvent], n: int) -> list[RecordedEvent]:
    return [next(events) for _ in range(n)]


def host_and_port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    assert parsed.hostname is not None
    assert parsed.port is not None
    return parsed.hostname, parsed.port


def append_via(
    rpc: str,
    client: KurrentDBClient,
    stream: str,
    event: NewEvent,
    current_version: int | StreamState,
) -> int:
    """Append one event through the named RPC: "Append" or "BatchAppend"."""
    if rpc == "Append":
        return append_one(client, stream, event, current_version)
    return append(client, stream, [event], current_version)
