"""The store as its own process: kill -9 during concurrent appends loses no acknowledged event
and leaves no half-written batch; SIGTERM stops it cleanly with its data kept."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import NotFoundError

from tests.support.ports import free_port
from tests.support.store_process import StoreProcess

pytestmark = pytest.mark.slow

WRITERS = 3
SHARED_STREAM = "shared-1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreProcess]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    proc = StoreProcess(free_port(), data_dir, tmp_path / "store.log")
    proc.start()
    yield proc
    proc.kill()


@dataclass
class Batch:
    stream: str
    first_revision: int | None  # known when appended at an exact revision
    ids: list[UUID]


@dataclass
class Ledger:
    """What writers tried and what the store acknowledged, shared by the writer threads."""

    attempted: list[Batch] = field(default_factory=list)
    acknowledged: list[Batch] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write_until_stopped(url: str, index: int, ledger: Ledger, stop: threading.Event) -> None:
    """Own stream at exact revisions, plus batches to a stream every writer shares (ANY)."""
    client = KurrentDBClient(uri=url)
    own, next_revision, n = f"writer{index}-1", 0, 0
    try:
        while not stop.is_set():
            n += 1
            size = 1 + n % 3
            events = [NewEvent(type="Wrote", data=b'{"n": %d}' % n) for _ in range(size)]
            shared = n % 4 == 0
            batch = Batch(
                SHARED_STREAM if shared else own,
                None if shared else next_revision,
                [e.id for e in events],
            )
            expected: int | StreamState = StreamState.ANY
            if not shared:
                expected = StreamState.NO_STREAM if next_revision == 0 else next_revision - 1
            with ledger.lock:
                ledger.attempted.append(batch)
            try:
                client.append_to_stream(
                    batch.stream,
                    events=events[0] if size == 1 else events,
                    current_version=expected,
                    timeout=5,
                )
            except Exception:
                return  # the store went away: this batch may or may not have been written
            with ledger.lock:
                ledger.acknowledged.append(batch)
            if not shared:
                next_revision += size
    finally:
        client.close()


def _run_writers_then(url: str, action: Callable[[], object], run_for: float = 1.0) -> Ledger:
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=_write_until_stopped, args=(url, i, ledger, stop))
        for i in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(run_for)
    action()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert ledger.acknowledged, "no append was acknowledged before the store stopped"
    return ledger


def _assert_everything_acknowledged_is_there(url: str, ledger: Ledger) -> None:
    client = KurrentDBClient(uri=url)
    try:
        streams: dict[str, list[UUID]] = {}
        for name in {b.stream for b in ledger.attempted}:
            try:
                recorded = client.get_stream(name)
            except NotFoundError:
                recorded = ()
            assert [e.stream_position for e in recorded] == list(range(len(recorded))), name
            streams[name] = [e.id for e in recorded]
        head = client.get_commit_position(filter_exclude=())
        after_restart = client.append_to_stream(
            "after-restart-1",
            events=[NewEvent(type="Wrote", data=b"{}")],
            current_version=StreamState.ANY,
        )
        assert after_restart > head, "positions must keep increasing across a restart"
    finally:
        client.close()

    for batch in ledger.acknowledged:
        ids = streams[batch.stream]
        assert set(batch.ids) <= set(ids), f"acknowledged batch lost in {batch.stream}"
        start = ids.index(batch.ids[0])
        assert ids[start : start + len(batch.ids)] == batch.ids, "batch split or reordered"
        if batch.first_revision is not None:
            assert start == batch.first_revision
    for batch in ledger.attempted:
        present = [i in set(streams[batch.stream]) for i in batch.ids]
        assert all(present) or not any(present), f"half-written batch in {batch.stream}"
    for ids in streams.values():
        assert len(ids) == len(set(ids)), "an event was written twice"


def test_kill_9_during_concurrent_appends_loses_no_acknowledged_event(
    store: StoreProcess,
) -> None:
    ledger = _run_writers_then(store.url, lambda: os.kill(store.process.pid, signal.SIGKILL))
    assert store.process.wait(timeout=10) == -signal.SIGKILL

    store.start()

    _assert_everything_acknowledged_is_there(store.url, ledger)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_the_store_cleanly_and_keeps_its_data(
    store: StoreProcess, signum: int
) -> None:
    exit_codes: list[int] = []
    ledger = _run_writers_then(store.url, lambda: exit_codes.append(store.signal(signum)))
    assert exit_codes == [0], store.log_text()

    store.start()

    _assert_everything_acknowledged_is_there(store.url, ledger)
