"""Connections owned by the threads that opened them, for the read-model stores: one per thread,
and one of a thread that has ended is closed when the next thread opens one, so threads that
come and go (a server's worker pool) cannot pile up open connections."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C")


class ThreadConnections(Generic[C]):
    def __init__(self, close: Callable[[C], None]) -> None:
        self._close = close
        self._lock = threading.Lock()
        self._owned: list[tuple[weakref.ref[threading.Thread], C]] = []

    def add(self, connection: C) -> None:
        """Hold `connection` as the current thread's; close those of threads that ended."""
        owner = weakref.ref(threading.current_thread())
        with self._lock:
            kept = []
            for thread_ref, held in self._owned:
                thread = thread_ref()
                if thread is None or not thread.is_alive():
                    self._close(held)
                else:
                    kept.append((thread_ref, held))
            self._owned = [*kept, (owner, connection)]

    def discard(self, connection: C) -> None:
        """Stop holding `connection` (its owner closed it: it was broken)."""
        with self._lock:
            self._owned = [(owner, held) for owner, held in self._owned if held is not connection]

    def __len__(self) -> int:
        with self._lock:
            return len(self._owned)

    def close_all(self) -> None:
        with self._lock:
            for _, held in self._owned:
                self._close(held)
            self._owned = []
