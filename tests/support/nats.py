"""NATS JetStream for tests: the machine's server (127.0.0.1:4222 unless
CASELEDGER_TEST_NATS_URL), skipped with the reason when unreachable — except under CI=true,
where it must answer; and a connection with a stream of its own for one test."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from caseledger.adapters.integration.jetstream import JetStream

NATS_URL = os.environ.get("CASELEDGER_TEST_NATS_URL", "nats://127.0.0.1:4222")


def require_nats() -> str:
    """The NATS URL, or skip (fail under CI=true) when nothing answers there."""
    host, port = NATS_URL.removeprefix("nats://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS JetStream is required under CI=true at {NATS_URL}: {error}")
        pytest.skip(f"NATS JetStream at {NATS_URL} is unreachable: {error}")
    return NATS_URL


@dataclass(frozen=True)
class Broker:
    """A JetStream connection with a stream of its own for one test."""

    js: JetStream
    stream: str
    prefix: str


@contextmanager
def stream_of_its_own() -> Iterator[Broker]:
    """A connection to the machine's NATS and a JetStream stream (and subject prefix) no other
    test uses, deleted afterwards; skips (fails under CI=true) when NATS does not answer."""
    js = JetStream.connect(require_nats())
    tag = uuid.uuid4().hex[:10]
    built = Broker(js, f"CLTEST_{tag}", f"cltest{tag}")
    try:
        js.ensure_stream(built.stream, built.prefix)
        yield built
    finally:
        js.delete_stream(built.stream)
        js.close()
