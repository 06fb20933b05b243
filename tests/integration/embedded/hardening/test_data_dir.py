"""A data dir that cannot be used fails at start, clearly; `--mem-db` needs none."""

from __future__ import annotations

from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState

from caseledger.adapters.eventstore.embedded.database import DataDirError
from caseledger.adapters.eventstore.embedded.server import (
    ENDPOINT_FILE,
    EmbeddedServer,
    running_endpoint,
)


def test_a_data_dir_held_by_another_running_store_fails_at_start(
    durable_server: EmbeddedServer,
) -> None:
    held = durable_server.store.database.path
    assert held is not None
    with pytest.raises(DataDirError, match="held by another running event store"):
        EmbeddedServer.start(held)


def test_a_data_dir_that_is_a_file_fails_at_start(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "events"
    not_a_dir.write_text("not a directory")
    with pytest.raises(DataDirError, match="not usable"):
        EmbeddedServer.start(not_a_dir)


def test_the_data_dir_is_free_again_after_a_clean_stop(tmp_path: Path) -> None:
    first = EmbeddedServer.start(tmp_path)
    first.stop(grace=1.0)
    second = EmbeddedServer.start(tmp_path)
    second.stop(grace=1.0)


def test_mem_db_serves_without_touching_the_disk(tmp_path: Path) -> None:
    server = EmbeddedServer.start(None, mem_db=True)
    client = KurrentDBClient(uri=server.url)
    try:
        client.append_to_stream(
            "case-1", current_version=StreamState.NO_STREAM, events=[NewEvent(type="t", data=b"")]
        )
        assert client.get_current_version("case-1") == 0
    finally:
        client.close()
        server.stop(grace=1.0)
    assert server.store.database.path is None


def test_a_running_store_advertises_its_endpoint_in_the_data_dir(tmp_path: Path) -> None:
    server = EmbeddedServer.start(tmp_path)
    try:
        assert running_endpoint(tmp_path) == server.url
    finally:
        server.stop(grace=1.0)
    assert running_endpoint(tmp_path) is None


def test_an_endpoint_left_by_a_crashed_store_is_not_trusted(tmp_path: Path) -> None:
    server = EmbeddedServer.start(tmp_path)
    endpoint = (tmp_path / ENDPOINT_FILE).read_text()
    server.stop(grace=1.0)
    (tmp_path / ENDPOINT_FILE).write_text(endpoint)  # as kill -9 would leave it

    assert running_endpoint(tmp_path) is None
