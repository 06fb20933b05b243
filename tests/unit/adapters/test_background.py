"""`ThreadBackground`: best-effort work off the caller's path, newest work per key, bounded."""

from __future__ import annotations

import logging
import threading

import pytest

from caseledger.adapters.background import ThreadBackground


def _blocked(background: ThreadBackground) -> threading.Event:
    """Occupy the worker until the returned event is set (so what is submitted next waits)."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(10)

    background.submit("holder", hold)
    assert started.wait(10)
    return release


def test_work_runs_off_the_callers_thread() -> None:
    background = ThreadBackground()
    ran_on: list[str] = []
    background.submit("k", lambda: ran_on.append(threading.current_thread().name))
    assert background.flush()
    background.close()
    assert ran_on == ["caseledger-background"]


def test_waiting_work_under_a_key_is_replaced_by_newer_work_which_keeps_its_place() -> None:
    background = ThreadBackground()
    release = _blocked(background)
    done: list[str] = []
    background.submit("a", lambda: done.append("a1"))
    background.submit("b", lambda: done.append("b1"))
    background.submit("a", lambda: done.append("a2"))
    assert background.waiting == 2
    release.set()
    assert background.flush()
    background.close()
    assert done == ["a2", "b1"]


def test_beyond_the_limit_new_keys_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    background = ThreadBackground(limit=2)
    release = _blocked(background)
    done: list[str] = []
    with caplog.at_level(logging.WARNING):
        for key in ("a", "b", "c"):
            background.submit(key, lambda key=key: done.append(key))  # type: ignore[misc]
        background.submit("a", lambda: done.append("a-newer"))  # a waiting key is still taken
    release.set()
    assert background.flush()
    background.close()
    assert done == ["a-newer", "b"]
    assert "background work c dropped: 2 keys waiting" in caplog.text


def test_a_failure_is_logged_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    background = ThreadBackground()
    done: list[str] = []

    def fail() -> None:
        raise RuntimeError("store unreachable")

    with caplog.at_level(logging.ERROR):
        background.submit("bad", fail)
        background.submit("good", lambda: done.append("good"))
        assert background.flush()
    background.close()
    assert done == ["good"]
    assert "background work bad failed" in caplog.text


def test_close_runs_what_waits_then_drops_new_work() -> None:
    background = ThreadBackground()
    release = _blocked(background)
    done: list[str] = []
    background.submit("a", lambda: done.append("a"))
    closing = threading.Thread(target=background.close)
    closing.start()
    release.set()
    closing.join(10)
    assert done == ["a"]
    background.submit("late", lambda: done.append("late"))
    assert background.flush()
    assert done == ["a"]


def test_flush_says_when_work_did_not_finish_in_time() -> None:
    background = ThreadBackground()
    release = _blocked(background)
    assert background.flush(timeout=0.05) is False
    release.set()
    assert background.flush()
    background.close()
