"""The reader's hand-off to the runner: bounded, first in first out, and a waiting side is woken
by the other."""

from __future__ import annotations

import threading
import time

from caseledger.projections.read_ahead import ReadAhead


def test_items_come_out_in_the_order_they_were_put() -> None:
    ahead = ReadAhead(10)
    running = threading.Event()
    for item in ("a", "b", "c"):
        assert ahead.put(item, running)

    assert [ahead.get_nowait(), ahead.get(0.01), ahead.get_nowait()] == ["a", "b", "c"]
    assert ahead.get_nowait() is None
    assert ahead.get(0.01) is None


def test_a_full_read_ahead_holds_the_reader_until_the_runner_takes_one() -> None:
    ahead = ReadAhead(2)
    stopping = threading.Event()
    ahead.put("a", stopping)
    ahead.put("b", stopping)
    put_third = threading.Thread(target=ahead.put, args=("c", stopping))
    put_third.start()
    time.sleep(0.05)
    assert len(ahead) == 2

    assert ahead.get_nowait() == "a"
    put_third.join(1)
    assert not put_third.is_alive()
    assert [ahead.get_nowait(), ahead.get_nowait()] == ["b", "c"]


def test_a_reader_held_by_a_full_read_ahead_gives_up_when_stopping() -> None:
    ahead = ReadAhead(1)
    stopping = threading.Event()
    ahead.put("a", stopping)
    stopping.set()

    assert ahead.put("b", stopping) is False
    assert len(ahead) == 1


def test_a_runner_waiting_for_a_first_event_is_woken_by_the_put() -> None:
    ahead = ReadAhead(4)
    got: list[object] = []
    waiting = threading.Thread(target=lambda: got.append(ahead.get(5.0)))
    waiting.start()
    time.sleep(0.05)
    started = time.monotonic()
    ahead.put("a", threading.Event())
    waiting.join(5)

    assert got == ["a"]
    assert time.monotonic() - started < 1.0
    assert ahead.wakeups == 1


def test_a_page_put_at_once_comes_out_in_order_and_wakes_a_waiting_runner_once() -> None:
    ahead = ReadAhead(4)
    got: list[object] = []
    waiting = threading.Thread(target=lambda: got.append(ahead.get(5.0)))
    waiting.start()
    time.sleep(0.05)
    assert ahead.put_all(["a", "b", "c"], threading.Event())
    waiting.join(5)

    assert got == ["a"]
    assert [ahead.get_nowait(), ahead.get_nowait(), ahead.get_nowait()] == ["b", "c", None]
    assert ahead.wakeups == 1


def test_a_page_waits_for_room_and_then_goes_in_whole() -> None:
    ahead = ReadAhead(2)
    stopping = threading.Event()
    ahead.put_all(["a", "b"], stopping)
    put_page = threading.Thread(target=ahead.put_all, args=(["c", "d", "e"], stopping))
    put_page.start()
    time.sleep(0.05)
    assert len(ahead) == 2

    assert ahead.get_nowait() == "a"
    put_page.join(1)
    assert not put_page.is_alive()
    assert [ahead.get_nowait() for _ in range(5)] == ["b", "c", "d", "e", None]


def test_a_page_held_by_a_full_read_ahead_is_dropped_when_stopping() -> None:
    ahead = ReadAhead(1)
    stopping = threading.Event()
    ahead.put("a", stopping)
    stopping.set()

    assert ahead.put_all(["b", "c"], stopping) is False
    assert len(ahead) == 1
