"""Freshness and read-your-writes: how far a view has got, and a bounded wait for it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from caseledger.projections.ports import ViewReader


class HeadPosition(Protocol):
    """The newest `$all` position, optionally of some categories only (the event store port
    has it)."""

    def head_position(self, categories: Sequence[str] = ()) -> int: ...


class ViewWaiter(Protocol):
    def wait_until(self, view: str, position: int, timeout: float) -> bool:
        """True once the active version of `view` is at or past `position`; False at timeout."""
        ...


class PollingWaiter:
    """Waits by reading the view's checkpoint every `interval` seconds: works across
    processes (the runner may live elsewhere). `sleep` may return early (e.g. at a commit of
    the runner in this process, `ProjectionRunner.wait_for_progress`): the checkpoint read
    decides, never the wake-up."""

    def __init__(
        self,
        reader: ViewReader,
        interval: float = 0.005,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._interval = interval
        self._sleep = sleep
        self._clock = clock

    def wait_until(self, view: str, position: int, timeout: float) -> bool:
        deadline = self._clock() + timeout
        while True:
            as_of = self._reader.as_of(view)
            if as_of is not None and as_of >= position:
                return True
            now = self._clock()
            if now >= deadline:
                return False
            self._sleep(min(self._interval, deadline - now))
