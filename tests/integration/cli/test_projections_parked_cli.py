"""`caseledger projections status` shows what an operator must see — a stalled runner and why,
parked events and the ones waiting behind them — and `caseledger projections retry` re-applies
a stream's parked events in revision order."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.runner_report import write_report
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.storeformat import mark_store_format
from caseledger.projections.events import ProjectedEvent
from caseledger.projections.projection import RowLookup, tenant_key
from caseledger.projections.rows import RowChange
from caseledger.projections.runner import STALLED, RunnerStatus
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.cli import invoke
from tests.support.facts import append, closed, opened, review_started
from tests.support.runners import caught_up_runner

SUMMARY = CaseSummaryProjection()
C1 = CASE.stream("t1", "c1")


class BrokenReviewStart(CaseSummaryProjection):
    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        if event.type == "case.review_started":
            raise ValueError("cannot project a review start")
        return super().apply(event, rows)


@pytest.fixture
def events(embedded_server: EmbeddedServer) -> Iterator[KurrentEventStore]:
    store = KurrentEventStore.connect(embedded_server.url)
    mark_store_format(store)  # as `serve` does before its first command
    yield store
    store.close()


@pytest.fixture
def env(embedded_server: EmbeddedServer, tmp_path: Path) -> dict[str, str]:
    return {
        "CASELEDGER_DATA_DIR": str(tmp_path),
        "CASELEDGER_EVENTSTORE_URL": embedded_server.url,
        "COLUMNS": "250",
    }


def test_an_unknown_type_appended_by_a_raw_client_is_parked_and_shown(
    events: KurrentEventStore,
    kurrent_client: KurrentDBClient,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    append(events, opened("c1"))
    kurrent_client.append_to_stream(
        C1,
        current_version=StreamState.ANY,
        events=[NewEvent(type="case.reopened", data=b'{"case_id": "c1"}', metadata=b"{}")],
    )
    store = SqliteProjectionStore(tmp_path / "readmodels.db")
    caught_up_runner(events, store, [SUMMARY])
    store.close()

    code, output = invoke(["projections", "status", "--parked"], env)

    assert code == 0, output
    assert f"case_summary_v1: {C1}@1 (case.reopened" in output
    assert "unknown event type 'case.reopened'" in output


def test_retry_applies_a_parked_stream_in_revision_order(
    events: KurrentEventStore, env: dict[str, str], tmp_path: Path
) -> None:
    append(events, opened("c1"), review_started("c1"), closed("c1"), opened("c2"))
    store = SqliteProjectionStore(tmp_path / "readmodels.db")
    caught_up_runner(events, store, [BrokenReviewStart()])
    code, output = invoke(["projections", "status", "--parked"], env)
    assert f"{C1}@2 (case.closed" in output
    assert f"waiting behind {C1}@1" in output

    code, output = invoke(["projections", "retry", "case_summary", "--stream", C1], env)

    assert code == 0, output
    assert "case_summary_v1: 2 applied, 0 still parked" in output
    row = store.get(SUMMARY.name, "t1", tenant_key("t1", "c1"))
    assert row is not None
    assert row.document["status"] == "closed"
    assert store.parked(SUMMARY.id) == []
    store.close()


def test_retry_says_which_events_stay_parked_and_exits_1(
    events: KurrentEventStore,
    kurrent_client: KurrentDBClient,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    append(events, opened("c1"))
    kurrent_client.append_to_stream(
        C1,
        current_version=StreamState.ANY,
        events=[NewEvent(type="case.reopened", data=b'{"case_id": "c1"}', metadata=b"{}")],
    )
    append(events, closed("c1"))
    store = SqliteProjectionStore(tmp_path / "readmodels.db")
    caught_up_runner(events, store, [SUMMARY])
    store.close()

    code, output = invoke(["projections", "retry", "case_summary"], env)

    assert code == 1, output
    assert "0 applied, 2 still parked" in output
    assert f"{C1}@2 (case.closed): waiting behind {C1}@1" in output


def test_status_shows_a_stalled_runner_and_why(env: dict[str, str], tmp_path: Path) -> None:
    stalled = RunnerStatus(
        state=STALLED,
        positions={},
        stats={},
        last_error=None,
        caught_up=True,
        stalled_reason="PostgreSQL 57P01: terminating connection due to administrator command",
        stalled_since=time.time(),
    )
    write_report(tmp_path, stalled)
    store = SqliteProjectionStore(tmp_path / "readmodels.db")
    store.prepare(SUMMARY)
    store.close()

    code, output = invoke(["projections", "status"], env)

    assert code == 0, output
    assert "runner: stalled since" in output
    assert "reason: PostgreSQL 57P01: terminating connection" in output

    code, output = invoke(["projections", "status", "--json"], env)

    assert code == 0, output
    document = json.loads(output)
    assert document["holder"]["pid"] == os.getpid()
    assert document["views"], output
    for view in document["views"]:
        assert view["state"] == "stalled"
        assert view["stalled_reason"].startswith("PostgreSQL 57P01")
