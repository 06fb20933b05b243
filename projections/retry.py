"""Retries with exponential backoff: how often a failing step is tried before the runner parks
the event that causes it (or, for a store that is down, keeps waiting with a capped delay)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    """Tries of a step before giving up on it (1 = no retry)."""
    first_delay: float = 0.05
    factor: float = 4.0
    max_delay: float = 5.0

    def delays(self) -> Iterator[float]:
        """The pauses between tries: `attempts - 1` of them, growing by `factor`."""
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay)
            delay *= self.factor

    def forever(self) -> Iterator[float]:
        """Pauses for a step that must eventually succeed (the store must come back)."""
        delay = self.first_delay
        while True:
            yield min(delay, self.max_delay)
            delay *= self.factor


NO_WAIT = RetryPolicy(attempts=3, first_delay=0.0, factor=1.0, max_delay=0.0)
"""For tests: the same number of tries, no sleeping."""
