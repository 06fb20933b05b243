"""One active holder of a piece of work per read store, standbys allowed: the projection
runner and the outbox relay each start only once they hold their lease in the read store.

Rule: the work starts after the lease is taken and stops when it is lost; the holder renews it
every `renew` seconds, and it expires `ttl` seconds after the last renewal, so a standby (which
tries every `renew` seconds, logging and recording itself as one) takes over within
`ttl + renew` of its holder's death; a holder that stops gives the lease up at once. A holder
that cannot renew because the read store fails keeps working (nobody else can take the lease
from a store that does not answer) and tries again."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from caseledger.adapters.settings import Settings

log = logging.getLogger(__name__)

RUNNER_LEASE: Final = "projection-runner"
RELAY_LEASE: Final = "outbox-relay"


class LeaseStore(Protocol):
    def take_lease(self, name: str, holder: str, ttl: float, now: float) -> str: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def lease(self, name: str, now: float) -> tuple[str | None, list[str]]:
        """`name`'s live holder (None: free or expired) and its live standbys."""
        ...


def holder_id() -> str:
    """This process, as status shows it: `host:pid:random` (unique across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LeaseTimes:
    ttl: float = 15.0
    renew: float = 5.0


def lease_times(settings: Settings) -> LeaseTimes:
    """CASELEDGER_LEASE_SECONDS and CASELEDGER_LEASE_RENEW_SECONDS."""
    return LeaseTimes(settings.lease_seconds, settings.lease_renew_seconds)


class LeasedWork:
    """Runs `start()` once `name`'s lease is held and `stop()` when it is lost or on `close()`
    (then releases it). `holding` tells whether this process does the work now."""

    def __init__(
        self,
        store: LeaseStore,
        name: str,
        start: Callable[[], object],
        stop: Callable[[], None],
        times: LeaseTimes | None = None,
        holder: str | None = None,
    ) -> None:
        self._store = store
        self.name = name
        self._start = start
        self._stop_work = stop
        self.times = times or LeaseTimes()
        self.holder = holder or holder_id()
        self.holding = False
        self.standby_of: str | None = None
        self._lost = False
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def begin(self) -> LeasedWork:
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
