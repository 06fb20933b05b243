"""Deadlines on event-store calls: `within` blocks nest (the sooner end wins), every RPC inside
one gets the time left as its deadline and none starts once it is spent; the watchdog cuts off
reads whose next message is overdue; the setting is a positive decimal number of seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pydantic import ValidationError

from caseledger.adapters.eventstore.deadlines import (
    DeadlineInterceptor,
    LockWithinDeadline,
    time_left,
    within,
)
from caseledger.adapters.eventstore.watchdog import Watchdog
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import EventStoreUnavailable


class Details:
    """grpc's ClientCallDetails, as grpc hands it to an interceptor."""

    def __init__(self, timeout: float | None) -> None:
        self.method = "/event_store.client.streams.Streams/Append"
        self.timeout = timeout
        self.metadata = (("connection-name", "test"),)
        self.credentials = None
        self.wait_for_ready = None
        self.compression = None


def _deadline_given(details: Details) -> Any:
    sent: list[Any] = []
    DeadlineInterceptor().intercept_unary_unary(
        lambda given, request: sent.append(given), details, request=b""
    )
    [given] = sent
    return given


def test_outside_any_block_there_is_no_deadline() -> None:
    assert time_left() is None
    assert _deadline_given(Details(None)).timeout is None


def test_nested_blocks_end_at_the_sooner_end_and_the_outer_one_comes_back() -> None:
    with within(30):
        with within(0.5):
            inner = time_left()
        with within(120):
            capped = time_left()
        outer = time_left()
    assert inner is not None
    assert 0 < inner <= 0.5
    assert capped is not None
    assert 0.5 < capped <= 30
    assert outer is not None
    assert 0.5 < outer <= 30
    assert time_left() is None


def test_an_rpc_inside_a_block_gets_the_time_left_unless_its_own_deadline_is_sooner() -> None:
    with within(30):
        given = _deadline_given(Details(None))
        sooner = _deadline_given(Details(0.25))
    assert 0 < given.timeout <= 30
    assert given.method.endswith("/Append")
    assert given.metadata == (("connection-name", "test"),)
    assert sooner.timeout == 0.25


def test_no_rpc_starts_once_the_time_is_spent() -> None:
    with within(0.0), pytest.raises(EventStoreUnavailable):
        _deadline_given(Details(None))


def test_a_read_whose_next_message_is_overdue_is_cut_off_and_one_released_is_not() -> None:
    watchdog = Watchdog(patience=0.05)
    cut: list[str] = []
    overdue = watchdog.watch(lambda: cut.append("overdue"))
    with watchdog.watch(lambda: cut.append("released")):
        pass
    deadline = time.monotonic() + 10
    while not cut and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the released lease would have fallen due by now
    watchdog.close()
    assert cut == ["overdue"]
    assert overdue.overdue


def test_the_watchdog_cuts_off_from_its_own_thread() -> None:
    watchdog = Watchdog(patience=0.01)
    cut_on: list[str] = []
    done = threading.Event()
    watchdog.watch(lambda: (cut_on.append(threading.current_thread().name), done.set()))
    assert done.wait(10)
    watchdog.close()
    assert cut_on == ["eventstore-watchdog"]


def test_the_timeout_setting_is_a_positive_decimal_number_of_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().eventstore_timeout == 5.0
    monkeypatch.setenv("CASELEDGER_EVENTSTORE_TIMEOUT", "0.25")
    assert Settings().eventstore_timeout == 0.25
    for wrong in ("0", "-1", "nan", "inf", "soon"):
        monkeypatch.setenv("CASELEDGER_EVENTSTORE_TIMEOUT", wrong)
        with pytest.raises(ValidationError):
            Settings()


def test_a_call_waits_for_the_reconnection_lock_no_longer_than_its_deadline() -> None:
    lock = LockWithinDeadline()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        with within(0.05), pytest.raises(EventStoreUnavailable), lock:
            pass
    finally:
        release.set()
        holder.join(10)
    with lock:  # free again, and outside a block it is an ordinary lock
        pass
