"""The engine's lease: one active holder of a piece of work per read store, standbys allowed.
The projection runner and the outbox relay each run their engine only while they hold their
lease in the read store (`LeaseStore`); who a holder is (`holder`) and how long a lease lasts
are the caller's (`adapters.lease`).

Rule: the work starts after the lease is taken and stops when it is lost; the holder renews it
every `renew` seconds, and it expires `ttl` seconds after the last renewal, so a standby (which
tries every `renew` seconds, logging and recording itself as one) takes over within
`ttl + renew` of its holder's death; a holder that stops gives the lease up at once. A holder
that cannot renew because the read store fails keeps working (nobody else can take the lease
from a store that does not answer) and tries again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, Self

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    def take_lease(self, name: str, holder: str, ttl: float, now: float) -> str:
        """Take or renew `name` for `holder` unless another holds it unexpired; the holder."""
        ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def lease(self, name: str, now: float) -> tuple[str | None, list[str]]:
        """`name`'s live holder (None: free or expired) and its live standbys."""
        ...


@dataclass(frozen=True)
class LeaseTimes:
    ttl: float = 15.0
    renew: float = 5.0


class LeasedWork:
    """Runs `start()` once `name`'s lease is held and `stop()` when it is lost or on `close()`
    (then releases it). `holding` tells whether this process does the work now."""

    def __init__(
        self,
        store: LeaseStore,
        name: str,
        start: Callable[[], object],
        stop: Callable[[], None],
        times: LeaseTimes,
        holder: str,
    ) -> None:
        self._store = store
        self.name = name
        self._start = start
        self._stop_work = stop
        self.times = times
        self.holder = holder
        self.holding = False
        self.standby_of: str | None = None
        self._lost = False
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def begin(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._thread.join(self.times.renew + 30)
        if self.holding:
            self.holding = False
            self._stop_work()
        try:
            self._store.release_lease(self.name, self.holder)
        except Exception as error:  # it expires by itself
            log.warning("releasing the %s lease failed: %r", self.name, error)

    def _run(self) -> None:
        while not self._closing.is_set() and not self._lost:
            self._try()
            self._closing.wait(self.times.renew)

    def _try(self) -> None:
        try:
            current = self._store.take_lease(self.name, self.holder, self.times.ttl, time.time())
        except Exception as error:  # the read store fails: keep doing what we do
            log.warning("%s lease: the read store fails: %r", self.name, error)
            return
        if current == self.holder:
            if not self.holding:
                log.warning("%s: this process (%s) holds the lease; starting", self.name, current)
                self.holding, self.standby_of = True, None
                self._start()
            return
        if self.holding:  # taken over while this process was paused: it must not go on
            log.warning("%s: lease lost to %s; stopping", self.name, current)
            self.holding, self._lost = False, True
            self._stop_work()
            return
        if self.standby_of != current:
            log.warning(
                "%s: standby, %s holds the lease (taken over within %.0f s if it stops)",
                self.name,
                current,
                self.times.ttl,
            )
            self.standby_of = current
