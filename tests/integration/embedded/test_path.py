"""CASELEDGER_EMBEDDED_PATH: the process hosting the embedded store reaches it in process by
default, over gRPC when asked; other processes reach it over gRPC either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseledger.adapters.bootstrap import bootstrap, bootstrap_session
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import NO_STREAM, NewEvent


def test_the_hosting_process_uses_the_in_process_path_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CASELEDGER_EMBEDDED_PATH", raising=False)
    with bootstrap(Settings(data_dir=tmp_path), mem_db=True, eventstore_port=0) as app:
        assert isinstance(app.store, InProcessEventStore)
        written = app.store.append("case-1", [NewEvent("case.opened", b"{}")], NO_STREAM)

        other = KurrentEventStore.connect(app.eventstore_url)
        try:
            assert [e.commit_position for e in other.read_stream("case-1")] == [
                written.commit_position
            ]
        finally:
            other.close()


def test_grpc_forces_the_loopback_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASELEDGER_EMBEDDED_PATH", "grpc")
    with bootstrap(Settings(data_dir=tmp_path), mem_db=True, eventstore_port=0) as app:
        assert isinstance(app.store, KurrentEventStore)


def test_an_unknown_path_is_refused_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASELEDGER_EMBEDDED_PATH", "shm")
    with pytest.raises(ValueError, match="embedded_path"):
        Settings()


@pytest.mark.parametrize(
    ("path", "adapter"), [("inprocess", InProcessEventStore), ("grpc", KurrentEventStore)]
)
def test_a_cli_command_that_opens_the_store_itself_reads_it_on_the_path_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, adapter: type
) -> None:
    monkeypatch.setenv("CASELEDGER_EMBEDDED_PATH", path)
    monkeypatch.setenv("CASELEDGER_EVENTSTORE_PORT", "0")
    with bootstrap(Settings(data_dir=tmp_path), eventstore_port=0) as app:
        written = app.store.append("case-t1_c1", [NewEvent("case.opened", b"{}")], NO_STREAM)

    with bootstrap_session(Settings(data_dir=tmp_path)) as session:
        store = session.store
        assert isinstance(store, adapter)
        assert [e.commit_position for e in store.read_stream("case-t1_c1")] == [
            written.commit_position
        ]
