"""CASELEDGER_EVENTSTORE_TIMEOUT in the event-store adapter: every call against a frozen store
(its own process, paused with SIGSTOP) ends EventStoreUnavailable within the deadline, also
when the connection stays up (keep-alives not yet noticing), and succeeds again once the store
resumes; reads and subscriptions that keep receiving are never cut off, however long they
take, and a quiet subscription stays open."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.domain.application.ports import (
    ANY,
    EventStoreUnavailable,
    NewEvent,
    RecordedEvent,
    StreamRead,
)
from tests.support.ports import free_port
from tests.support.store_process import StoreProcess

pytestmark = pytest.mark.slow

DEADLINE = 0.5
BOUND = DEADLINE + 1.0
"""A call against a frozen store ends within this (the deadline plus the issue's margin)."""
QUIET_KEEPALIVE = "&KeepAliveInterval=60000&KeepAliveTimeout=60000"
"""Keep-alives that notice nothing within a test: only the deadlines act."""

CALLS: dict[str, Callable[[KurrentEventStore], object]] = {
    "append": lambda store: store.append("case-1", [NewEvent("case.noted", b"{}")], ANY),
    "append_checked": lambda store: store.append_checked(
        "case-1", [NewEvent("case.noted", b"{}")], ANY, {"policy-t1": -1}
    ),
    "keep_latest": lambda store: store.keep_latest("snapshot-case-1", 3),
    "read_stream": lambda store: store.read_stream("case-1"),
    "read_streams": lambda store: store.read_streams(
        [StreamRead("case-1"), StreamRead.last("case-1"), StreamRead("case-2")]
    ),
    "head_position": lambda store: store.head_position(["case"]),
}


@pytest.fixture(scope="module")
def store_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProcess]:
    data = tmp_path_factory.mktemp("frozen-store")
    process = StoreProcess(free_port(), data, data.parent / "frozen-store.log")
    process.start()
    yield process
    process.kill()


@pytest.mark.parametrize("connection", ["", QUIET_KEEPALIVE], ids=["keepalive", "deadline-only"])
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_call_against_a_frozen_store_ends_within_the_deadline_and_works_once_it_resumes(
    store_process: StoreProcess, call: Callable[[KurrentEventStore], object], connection: str
) -> None:
    store = KurrentEventStore.connect(store_process.url + connection, timeout=DEADLINE)
    try:
        store.append("case-1", [NewEvent("case.opened", b"{}")], ANY)
        store_process.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(EventStoreUnavailable):
                call(store)
            took = time.monotonic() - started
        finally:
            store_process.process.send_signal(signal.SIGCONT)
        assert took <= BOUND
        _until_it_answers(lambda: call(store))
    finally:
        store.close()


def _until_it_answers(call: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            call()
            return
        except EventStoreUnavailable:
            assert time.monotonic() < deadline, "the store did not answer again"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedServer]:
    server = EmbeddedServer.start(None, mem_db=True)
    yield server
    server.stop(grace=1.0)


def test_a_stream_read_longer_than_the_deadline_in_total_is_not_cut_off(
    embedded: EmbeddedServer,
) -> None:
    # A deadline a busy machine's first event always meets, and a read many times longer.
    store = KurrentEventStore.connect(embedded.url, timeout=1.0)
    try:
        for _ in range(120):
            store.append("ledger-1", [NewEvent("ledger.line", b"{}") for _ in range(1000)], ANY)
        started = time.monotonic()
        read = store.read_stream("ledger-1")
        took = time.monotonic() - started
    finally:
        store.close()
    assert [e.revision for e in read] == list(range(120_000))
    assert took > store.timeout, "the read was not longer than the deadline: nothing proved"


def test_a_subscription_that_keeps_receiving_is_never_cut_off_and_a_quiet_one_stays_open(
    embedded: EmbeddedServer,
) -> None:
    store = KurrentEventStore.connect(embedded.url, timeout=0.25)
    start = store.head_position()
    try:
        store.append("rebuild-1", [NewEvent("ledger.line", b"{}") for _ in range(500)], ANY)
        subscription = store.subscribe_all(start, ["rebuild"])
        seen: list[RecordedEvent] = []
        reader = threading.Thread(target=lambda: seen.extend(_slowly(subscription, 501)))
        reader.start()
        time.sleep(8 * store.timeout)  # quiet for many deadlines after the 500 (read slowly)
        store.append("rebuild-1", [NewEvent("ledger.line", b"{}")], ANY)
        reader.join(60)
        subscription.stop()
    finally:
        store.close()
    assert [e.revision for e in seen] == list(range(501))


def _slowly(events: Iterable[RecordedEvent], count: int) -> list[RecordedEvent]:
    """`count` events, 2 ms apart (a slow consumer: a rebuild doing real work)."""
    got: list[RecordedEvent] = []
    for event in events:
        got.append(event)
        if len(got) == count:
            break
        time.sleep(0.002)
    return got
