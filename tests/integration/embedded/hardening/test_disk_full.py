"""A disk that fills up under the store (here: the store process's file-size limit, a real
EFBIG from the kernel on SQLite's writes): the append that cannot be made durable is refused
with UNAVAILABLE and a clear message, nothing of it is written, the store keeps serving reads,
and once there is room again the next append commits as if nothing had happened."""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, NewRecord, StreamState
from kurrentdbclient.exceptions import ServiceUnavailableError

from tests.support.ports import free_port
from tests.support.store_process import StoreProcess

pytestmark = pytest.mark.slow

FILE_LIMIT = 3 * 2**20
BIG = b'{"filler": "' + b"x" * 100_000 + b'"}'


def _limit_file_sizes() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, resource.RLIM_INFINITY))


@pytest.fixture
def cramped_store(tmp_path: Path) -> Iterator[StoreProcess]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = StoreProcess(free_port(), data_dir, tmp_path / "store.log", _limit_file_sizes)
    store.start()
    yield store
    store.kill()


def _fill_until_refused(client: KurrentDBClient) -> tuple[int, ServiceUnavailableError]:
    for appended in range(200):
        try:
            client.append_to_stream(
                "case-1", current_version=StreamState.ANY, events=[NewEvent(type="t", data=BIG)]
            )
        except ServiceUnavailableError as refused:
            return appended, refused
    pytest.fail(f"{200 * len(BIG)} bytes appended under a {FILE_LIMIT}-byte file limit")


def test_a_full_disk_refuses_the_append_clearly_loses_nothing_and_recovers(
    cramped_store: StoreProcess,
) -> None:
    client = KurrentDBClient(uri=cramped_store.url)
    try:
        appended, refused = _fill_until_refused(client)
        assert appended > 0
        assert "could not commit the write" in str(refused)
        assert "nothing was written" in str(refused)
        with pytest.raises(ServiceUnavailableError, match="could not commit the write"):
            client.append_records(NewRecord(stream_name="case-2", type="t", data=BIG))

        assert len(client.get_stream("case-1")) == appended  # the refused ones left no trace
        assert cramped_store.process.poll() is None

        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(cramped_store.process.pid, resource.RLIMIT_FSIZE, unlimited)
        client.append_to_stream(
            "case-1", current_version=appended - 1, events=[NewEvent(type="t", data=BIG)]
        )
        assert len(client.get_stream("case-1")) == appended + 1
    finally:
        client.close()
    assert cramped_store.signal(signal.SIGTERM) == 0
    assert cramped_store.log_text().count("Traceback") == 0
