"""`StoreCalls`: requests that may wait on the event store run on threads of their own, each
within the deadline in all -- a request that gets no thread in time is EventStoreUnavailable,
and the work runs inside the deadline's block. `HeadUnlessSilent`: once the store let a head
lookup run out of time, queries do not wait on it again for a while."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import anyio
import pytest

from caseledger.adapters.eventstore.deadlines import time_left
from caseledger.adapters.eventstore.quiet_head import HeadUnlessSilent
from caseledger.adapters.store_calls import StoreCalls
from caseledger.domain.application.ports import EventStoreUnavailable


def test_work_runs_off_the_loop_inside_the_deadline() -> None:
    calls = StoreCalls(timeout=30.0)

    def work(x: int) -> tuple[int, float | None, str]:
        return x * 2, time_left(), threading.current_thread().name

    doubled, left, thread = anyio.run(calls.run, work, 21)
    assert doubled == 42
    assert left is not None
    assert 0 < left <= 30.0
    assert thread != threading.current_thread().name


def test_a_request_that_gets_no_thread_within_the_deadline_is_event_store_unavailable() -> None:
    calls = StoreCalls(timeout=0.2, threads=1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(30)

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(calls.run, hold)
            await anyio.to_thread.run_sync(holding.wait, 30)
            try:
                with pytest.raises(EventStoreUnavailable):
                    await calls.run(lambda: None)
            finally:
                release.set()

    anyio.run(main)


class Head:
    def __init__(self) -> None:
        self.asked = 0
        self.answering = False

    def head_position(self, categories: Sequence[str] = ()) -> int:
        self.asked += 1
        if not self.answering:
            raise EventStoreUnavailable("no answer")
        return 42


def test_queries_do_not_wait_on_a_silent_store_again_until_the_pause_is_over() -> None:
    now = [100.0]
    source = Head()
    head = HeadUnlessSilent(source, pause=5.0, clock=lambda: now[0])

    for _ in range(3):
        with pytest.raises(EventStoreUnavailable):
            head.head_position(["case"])
    assert source.asked == 1  # the two after it did not wait on the store

    source.answering, now[0] = True, 105.0
    assert head.head_position(["case"]) == 42
    assert source.asked == 2
