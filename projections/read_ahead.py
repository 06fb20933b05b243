"""The events a runner's reader thread has read ahead of its projections: a bounded FIFO between
one reader and one runner.

Rule: a thread is woken only when it waits for the other — the runner for a first event (live
mode), the reader for room. Items are appended and popped on a deque (atomic under the
interpreter lock), not through `queue.Queue`, whose every put and get takes a lock and notifies
a condition: the runner, the reader and the gRPC client share one interpreter lock, so a
hand-off per event is paid by all three.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence


class ReadAhead:
    def __init__(self, size: int) -> None:
        self._items: deque[object] = deque()
        self._size = size
        self._ready = threading.Condition()
        self._runner_waiting = False
        self._room = threading.Condition()
        self._reader_waiting = False
        self.wakeups = 0
        """Times a put woke a waiting runner (for tests and operators)."""

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: object, stopping: threading.Event) -> bool:
        """Append `item` once there is room; False (nothing appended) once `stopping` is set."""
        return self.put_all((item,), stopping)

    def put_all(self, items: Sequence[object], stopping: threading.Event) -> bool:
        """Append `items` in one go once there is room (the queue may then hold up to
        `len(items) - 1` more than its size); False (nothing appended) once `stopping` is
        set."""
        while len(self._items) >= self._size:
            if stopping.is_set():
                return False
            with self._room:
                self._reader_waiting = True  # before the check: a pop after it sees the flag
                try:
                    if len(self._items) >= self._size:
                        self._room.wait(0.1)
                finally:
                    self._reader_waiting = False
        if stopping.is_set():
            return False
        self._items.extend(items)
        if self._runner_waiting and items:
            with self._ready:
                self.wakeups += 1
                self._ready.notify()
        return True

    def get(self, timeout: float) -> object | None:
        """The next item, waiting up to `timeout` seconds for one; None if none came."""
        item = self.get_nowait()
        if item is not None:
            return item
        with self._ready:
            self._runner_waiting = True  # before the check: a put after it sees the flag
            try:
                if not self._items:
                    self._ready.wait(timeout)
            finally:
                self._runner_waiting = False
        return self.get_nowait()

    def get_nowait(self) -> object | None:
        """The next item, or None if there is none now."""
        try:
            item = self._items.popleft()
        except IndexError:
            return None
        if self._reader_waiting:
            with self._room:
                self._room.notify()
        return item

    def clear(self) -> None:
        self._items.clear()
        with self._room:
            self._room.notify()
