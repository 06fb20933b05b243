"""The SQLite store's per-thread connections: a thread that ends leaves no connection open behind
it, so threads that come and go (a server's worker pool) cannot pile up open files."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.views.case_summary import CaseSummaryProjection

SUMMARY = CaseSummaryProjection()
PROC_FDS = Path("/proc/self/fd")

pytestmark = pytest.mark.skipif(not PROC_FDS.is_dir(), reason="needs /proc/self/fd (Linux)")


def open_handles(path: Path) -> int:
    """This process's open file descriptors on the database file: one per open connection."""
    count = 0
    for fd in PROC_FDS.iterdir():
        try:
            count += os.readlink(fd) == str(path)
        except OSError:  # closed while we looked
            continue
    return count


def in_thread(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return thread


@pytest.fixture
def store(tmp_path: Path) -> SqliteProjectionStore:
    opened = SqliteProjectionStore(tmp_path / "rm.db", checkpoint_interval=3600)
    opened.prepare(SUMMARY)
    return opened


def test_threads_that_read_and_end_leave_at_most_one_connection_open_behind_them(
    store: SqliteProjectionStore, tmp_path: Path
) -> None:
    ended = [in_thread(lambda: store.checkpoint(SUMMARY.id)) for _ in range(20)]

    assert not any(thread.is_alive() for thread in ended)
    # the main thread's, and the last ended thread's until another thread opens one
    assert store.open_connections <= 2
    # and one descriptor SQLite keeps from a closed connection, to reuse, while others hold
    # POSIX locks on the file (closing it would drop theirs): bounded, not one per thread
    assert open_handles(tmp_path / "rm.db") <= 3
    store.close()
    assert open_handles(tmp_path / "rm.db") == 0


def test_threads_still_running_keep_their_connections(
    store: SqliteProjectionStore, tmp_path: Path
) -> None:
    release, ready = threading.Event(), threading.Barrier(6)

    def read_and_wait() -> None:
        store.checkpoint(SUMMARY.id)
        ready.wait(5)
        release.wait(5)
        store.checkpoint(SUMMARY.id)  # its connection is still usable

    running = [threading.Thread(target=read_and_wait) for _ in range(5)]
    for thread in running:
        thread.start()
    ready.wait(5)
    in_thread(lambda: store.checkpoint(SUMMARY.id))  # a newcomer opens one, closes none of theirs

    assert store.open_connections >= 6
    release.set()
    for thread in running:
        thread.join()
    in_thread(lambda: store.checkpoint(SUMMARY.id))
    assert store.open_connections <= 2
    store.close()
    assert open_handles(tmp_path / "rm.db") == 0
