"""Request handling that may wait on the event store, bounded in threads and in time, so a
frozen store can neither hold a request past its deadline nor starve the rest of the server
(health checks, queries) of threads."""

from __future__ import annotations

import functools
from collections.abc import Callable
from time import monotonic
from typing import ParamSpec, TypeVar

import anyio

from caseledger.adapters.eventstore.deadlines import no_answer, within
from caseledger.domain.application.ports import EventStoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")

THREADS = 16
"""Requests of one kind (commands, queries, tool calls) running at once; more wait for one."""


class StoreCalls:
    """Runs blocking work that calls the event store on at most `threads` threads of its own,
    each request within `timeout` seconds in all -- the wait for a thread included: one that
    gets no thread in time, or whose store calls run out of time, ends EventStoreUnavailable.
    Use from the event loop serving the requests (it creates its limiters there)."""

    def __init__(self, timeout: float, threads: int = THREADS) -> None:
        self.timeout = timeout
        self._threads = threads
        self._limiters: tuple[anyio.CapacityLimiter, anyio.CapacityLimiter] | None = None

    async def run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        ends_at = monotonic() + self.timeout
        slots, threads = self._limiters_here()
        try:
            slots.acquire_nowait()  # a free slot is taken at once, without a wait to bound
        except anyio.WouldBlock:
            await self._wait_for_slot(slots)
        try:
            call = functools.partial(_within_until, ends_at, work, *args, **kwargs)
            return await anyio.to_thread.run_sync(call, limiter=threads)
        finally:
            slots.release()

    async def _wait_for_slot(self, slots: anyio.CapacityLimiter) -> None:
        acquired = False
        with anyio.move_on_after(self.timeout):
            await slots.acquire()
            acquired = True
        if not acquired:
            raise EventStoreUnavailable(no_answer(self.timeout))

    def _limiters_here(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        if self._limiters is None:
            # Two: a slot is held across the thread's run, whose own limiter then never waits.
            size = self._threads
            self._limiters = anyio.CapacityLimiter(size), anyio.CapacityLimiter(size)
        return self._limiters


def _within_until(ends_at: float, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    with within(max(0.0, ends_at - monotonic())):
        return work(*args, **kwargs)
