"""A runner's wait for a failing read store (`stalled`): why, since when, and how long to wait
before the next try — growing by the retry policy's factor, never more than 5 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Final

from caseledger.projections.retry import RetryPolicy

MAX_DELAY: Final = 5.0
"""The longest pause between two tries, whatever the settings say."""
_MIN_DELAY: Final = 0.01


class Stopped(Exception):
    """`stop()` ended the wait: the batch in hand is left uncommitted (it is replayed)."""


class Stall:
    def __init__(
        self,
        policy: RetryPolicy,
        max_delay: float,
        stopping: threading.Event,
        ceiling: float = MAX_DELAY,
    ) -> None:
        """Pauses from `policy`, at most `max_delay` and never more than `ceiling` (the
        runner's rule: 5 s whatever its settings say; the relay's pauses are its settings')."""
        self._policy = policy
        self._max_delay = min(max_delay, ceiling)
        self._stopping = stopping
        self._delays: Iterator[float] | None = None
        self.reason: str | None = None
        """While stalled: the last failure's reason."""
        self.since: float | None = None
        """While stalled: when it began (`time.time()`)."""

    @property
    def stalled(self) -> bool:
        return self.reason is not None

    def note(self, reason: str) -> bool:
        """A try failed for `reason`; True if that begins the stall."""
        began = self._delays is None
        if began:
            self._delays = self._policy.forever()
            self.since = time.time()
        self.reason = reason
        return began

    def pause(self) -> None:
        """Wait before the next try (capped backoff); raise `Stopped` on `stop()`."""
        delays = self._delays or self._policy.forever()
        delay = min(max(next(delays), _MIN_DELAY), self._max_delay)
        if self._stopping.wait(delay):
            raise Stopped()

    def end(self) -> str | None:
        """The store answered again: not stalled any more; the reason it was, if it was."""
        reason, self.reason, self.since, self._delays = self.reason, None, None, None
        return reason
