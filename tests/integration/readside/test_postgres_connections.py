"""The PostgreSQL store's per-thread connections: a thread that ends leaves no session open
behind it on the server, so threads that come and go cannot exhaust `max_connections`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.postgres import POSTGRES_ADMIN_URL

SUMMARY = CaseSummaryProjection()
pytestmark = pytest.mark.postgres


def sessions_on(url: str) -> int:
    """Server sessions connected to `url`'s database (as PostgreSQL counts them)."""
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def settled_sessions_on(url: str, at_most: int) -> int:
    """`sessions_on`, given the server up to 5 s to end the backends of closed connections
    (a backend exits after its client has gone)."""
    deadline = time.monotonic() + 5
    count = sessions_on(url)
    while count > at_most and time.monotonic() < deadline:
        time.sleep(0.05)
        count = sessions_on(url)
    return count


def in_thread(work: Callable[[], object]) -> None:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def test_threads_that_read_and_end_leave_at_most_one_session_behind_them(
    postgres_url: str,
) -> None:
    store = PostgresProjectionStore(postgres_url)
    store.prepare(SUMMARY)
    for _ in range(20):
        in_thread(lambda: store.checkpoint(SUMMARY.id))

    # the main thread's, and the last ended thread's until another thread opens one
    assert store.open_connections <= 2
    assert settled_sessions_on(postgres_url, 2) <= 2
    store.close()
    assert store.open_connections == 0
    assert settled_sessions_on(postgres_url, 0) == 0


def test_every_connection_plans_each_statement_for_its_parameters(postgres_url: str) -> None:
    """A generic plan chosen while a rebuilt view's tables were nearly empty is never kept:
    it looked a batch's stream revisions up by projection alone (every revision row read)."""
    store = PostgresProjectionStore(postgres_url)
    store.prepare(SUMMARY)
    modes: list[str] = []

    def read_mode() -> None:
        with store._read() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            modes.append(cursor.fetchone()[0])

    read_mode()
    in_thread(read_mode)

    assert modes == ["force_custom_plan", "force_custom_plan"]
    store.close()
