"""`ThreadBackground`: the application's best-effort work (snapshot writes) on a worker thread
of its own, so a command is answered without waiting for it."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

log = logging.getLogger(__name__)

DEFAULT_LIMIT: Final = 1_000
"""Keys that may wait at once; work under a new key beyond them is dropped (and logged)."""


class ThreadBackground:
    """`Background` on one daemon thread. Work runs in the order its key was first submitted;
    work under a key that has not started yet is replaced by newer work under it (the key keeps
    its place). At most `limit` keys wait. A failure is logged and the thread goes on. After
    `close`, new work is dropped; `close` first runs what waits (up to its timeout)."""

    def __init__(self, name: str = "caseledger-background", limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._waiting: OrderedDict[str, Callable[[], None]] = OrderedDict()
        self._busy = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, key: str, work: Callable[[], None]) -> None:
        with self._changed:
            if self._closed:
                log.warning("background work %s dropped: closed", key)
                return
            if key not in self._waiting and len(self._waiting) >= self._limit:
                log.warning("background work %s dropped: %d keys waiting", key, self._limit)
                return
            self._waiting[key] = work
            self._changed.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing waits or runs; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._waiting or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Run what waits (at most `timeout` seconds), then stop the thread."""
        self.flush(timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout)

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._busy = False
                self._changed.notify_all()
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if not self._waiting:
                    return
                key, work = self._waiting.popitem(last=False)
                self._busy = True
            try:
                work()
            except Exception:
                log.exception("background work %s failed", key)
