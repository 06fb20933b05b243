"""NATS JetStream for tests: the machine's server (127.0.0.1:4222 unless
CASELEDGER_TEST_NATS_URL), skipped with the reason when unreachable — except under CI=true,
where it must answer."""

from __future__ import annotations

import os
import socket

import pytest

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
