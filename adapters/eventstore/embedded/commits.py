"""Commit notifications: live subscriptions sleep here until the writer commits past them."""

from __future__ import annotations

import threading


class CommitSignal:
    """The `$all` head position, and a way to wait until it moves (pushed, never polled)."""

    def __init__(self, head: int) -> None:
        self._head = head
        self._closed = False
        self._changed = threading.Condition()

    @property
    def head(self) -> int:
        return self._head

    def committed(self, head: int) -> None:
        with self._changed:
            self._head = head
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def wait_beyond(self, position: int, timeout: float) -> bool:
        """Block until the head is past `position` (True), the store closes or time runs out.
        The timeout only lets a waiter notice a cancelled call; new events wake it at once."""
        with self._changed:
            return (
                self._changed.wait_for(
                    lambda: self._head > position or self._closed, timeout=timeout
                )
                and not self._closed
            )
