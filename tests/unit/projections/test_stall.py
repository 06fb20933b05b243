"""A stalled runner waits with capped backoff: growing pauses, never more than 5 s between
tries whatever the settings say, and `stop()` ends the wait."""

from __future__ import annotations

import threading

import pytest

from caseledger.projections.retry import RetryPolicy
from caseledger.projections.stall import Stall, Stopped


class RecordingEvent(threading.Event):
    """Records each wait's timeout instead of waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return self.is_set()


def test_pauses_grow_and_never_exceed_five_seconds() -> None:
    stopping = RecordingEvent()
    stall = Stall(RetryPolicy(first_delay=0.5, factor=4.0, max_delay=60.0), 60.0, stopping)

    assert stall.note("SQLite SQLITE_BUSY: database is locked") is True
    for _ in range(5):
        stall.pause()
        assert stall.note("SQLite SQLITE_BUSY: database is locked") is False

    assert stopping.waits == [0.5, 2.0, 5.0, 5.0, 5.0]
    assert stall.stalled
    assert stall.since is not None


def test_the_store_answering_ends_the_stall_and_stop_ends_the_wait() -> None:
    stopping = RecordingEvent()
    stall = Stall(RetryPolicy(), 5.0, stopping)
    stall.note("PostgreSQL 57P01: terminating connection")

    assert stall.end() == "PostgreSQL 57P01: terminating connection"
    assert (stall.stalled, stall.since, stall.end()) == (False, None, None)
    stall.note("PostgreSQL connection: refused")
    stopping.set()
    with pytest.raises(Stopped):
        stall.pause()
