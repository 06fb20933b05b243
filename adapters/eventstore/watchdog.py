"""The wait for a streaming read's next message, bounded: a read whose next message is overdue
by the deadline is cut off, one that keeps receiving runs as long as it takes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import monotonic
from types import TracebackType


class Lease:
    """One watched read: `received()` after each message; `overdue` once it was cut off."""

    def __init__(self, watchdog: Watchdog, cut_off: Callable[[], None]) -> None:
        self._watchdog = watchdog
        self._cut_off = cut_off
        self.due = monotonic() + watchdog.patience
        self.overdue = False

    def received(self) -> None:
        self.due = monotonic() + self._watchdog.patience

    def cut_off(self) -> None:
        self.overdue = True
        self._cut_off()

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._watchdog.release(self)


class Watchdog:
    """One thread for all of a client's reads, asleep until the next one falls due (started
    with the first read). `patience`: seconds a read may wait for its next message."""

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self._leases: set[Lease] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, cut_off: Callable[[], None]) -> Lease:
        """A lease on a read that `cut_off` ends (from the watchdog's thread); use it as a
        context manager so it is released however the read ends."""
        lease = Lease(self, cut_off)
        with self._changed:
            self._leases.add(lease)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="eventstore-watchdog", daemon=True
                )
                self._thread.start()
            self._changed.notify()
        return lease

    def release(self, lease: Lease) -> None:
        with self._changed:
            self._leases.discard(lease)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self) -> None:
        with self._changed:
            while not self._closed:
                now = monotonic()
                for lease in [lease for lease in self._leases if lease.due <= now]:
                    self._leases.discard(lease)
                    lease.cut_off()
                due = min((lease.due for lease in self._leases), default=None)
                self._changed.wait(None if due is None else due - now)
