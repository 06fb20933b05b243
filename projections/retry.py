"""Retries with exponential backoff: how often a failing step is tried before the item that
causes it is parked (kept, visible, retryable), or, for a store or broker that is down, how long
to wait between tries that go on until it answers. One policy for every consumer of `$all` and
of the broker: the projection runner (an event a view cannot apply), the outbox relay (a message
the broker refuses) and the notification worker (a request it cannot serve yet)."""

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

    def exhausted(self, tries: int) -> bool:
        """After `tries` failed tries (counted wherever they are kept: in memory, in the
        outbox, by the broker's redeliveries), whether the item is parked now."""
        return tries >= self.attempts

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
