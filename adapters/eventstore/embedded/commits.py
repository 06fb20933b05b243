"""Commit notifications: live subscriptions sleep here until the writer commits past them."""

from __future__ import annotations

import threading
from collections.abc import Callable


class CommitSignal:
    """The `$all` head position, and a way to wait until it moves (pushed, never polled)."""

    def __init__(self, head: int) -> None:
        self._head = head
        self._closed = False
        self._changed = threading.Condition()
        self._listeners: list[Callable[[int], None]] = []

    @property
    def head(self) -> int:
        return self._head

    def committed(self, head: int) -> None:
        with self._changed:
            self._head = head
            self._changed.notify_all()
        for listener in self._listeners:
            listener(head)

    def listen(self, listener: Callable[[int], None]) -> None:
        """Call `listener(head)` after each commit, on the committing thread (it must be quick
        and must not raise: e.g. a non-blocking write to another process)."""
        self._listeners = [*self._listeners, listener]

    def unlisten(self, listener: Callable[[int], None]) -> None:
        self._listeners = [x for x in self._listeners if x is not listener]

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def wake(self) -> None:
        """Wake every waiter to look again (e.g. a call was cancelled)."""
        with self._changed:
            self._changed.notify_all()

    def wait_beyond(
        self, position: int, timeout: float, gone: Callable[[], bool] = lambda: False
    ) -> bool:
        """Block until the head is past `position` (True), the store closes, the waiter is
        `gone` or time runs out. New events and `wake` end the wait at once; the timeout is a
        backstop."""
        with self._changed:
            moved = self._changed.wait_for(
                lambda: self._head > position or self._closed or gone(), timeout=timeout
            )
            return moved and not self._closed
