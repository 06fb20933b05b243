"""The peers benchmark still runs end to end (tiny sizes): its figures are what issue 28's
targets are judged by, so a bench that no longer starts, or no longer prints a row, must fail
here rather than be found broken when someone needs the figures. It asserts rows and figures,
never their values."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.bench_peers import LAG_ROWS

ROOT = Path(__file__).resolve().parents[3]
POSTGRES = os.environ.get(
    "CASELEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FIGURE = r"[\d,.]+"


def _postgres_answers() -> None:
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL at {POSTGRES} (the peer's second store) is unreachable: {error}")


@pytest.mark.slow
def test_the_peers_bench_prints_commands_http_rebuild_and_lag_rows(tmp_path: Path) -> None:
    _postgres_answers()
    arguments = ["--block", "8", "--rounds", "1", "--clients", "2", "--events", "400"]
    arguments += ["--lag-samples", "5", "--seed-cache", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_peers", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for row in (
        "caseledger, in process, runner in a thread (`bootstrap()`)",
        "caseledger, in process, runner in a child process (as `serve`)",
        "caseledger, in process, runner in a child process, 2 threads",
        "caseledger over HTTP (`serve`, runner in its child), 1 kept-alive httpx client",
        "caseledger over HTTP (`serve`), 2 concurrent kept-alive httpx clients",
        "eventsourcing 9.5, SQLite file (WAL)",
    ):
        assert re.search(rf"\| {re.escape(row)} \| {FIGURE} \| {FIGURE} / {FIGURE} \|", out), row
    for path in ("inprocess", "grpc"):
        assert re.search(rf"\| {path} \| 400 \| {FIGURE} \|", out), path  # every seeded event
    assert re.search(rf"in process / over gRPC: {FIGURE}x", out)
    for lag in LAG_ROWS.values():  # 5 samples each
        assert re.search(rf"\| {re.escape(lag)} \| 5 \| {FIGURE} / {FIGURE} \|", out), lag
    assert list(tmp_path.glob("caseledger-bench-peers-400-*/seeded"))  # kept for the next run


def test_the_peers_bench_runs_only_the_rows_asked_for_with_their_cpu_by_thread() -> None:
    arguments = ["--block", "8", "--rounds", "1", "--events", "0", "--rebuild-rounds", "0"]
    arguments += ["--lag-samples", "0", "--only", "no runner", "--only", "SQLite", "--cpu"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_peers", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = re.findall(r"^\| ((?:caseledger|eventsourcing)[^|]*) \|", result.stdout, re.MULTILINE)
    wanted = ["caseledger, in process, no runner", "eventsourcing 9.5, SQLite file (WAL)"]
    assert rows == wanted * 2, "each kept row once among the rates and once among the CPU"
    for row in wanted:  # threads, then all threads' figure (a few commands may round to 0)
        assert re.search(rf"\| {re.escape(row)} \| [^|]* \| {FIGURE} \|", result.stdout), row
