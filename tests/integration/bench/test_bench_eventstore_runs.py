"""The event store benchmark still runs end to end (tiny sizes): its figures are what issue 7's
targets are judged by, so a bench that no longer starts, or no longer prints a row, must fail
here rather than be found broken when someone needs the figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_latency_part_prints_each_append_next_to_its_baselines() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_eventstore", "--only", "latency", "--samples", "30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| sequential")]
    assert len(rows) == 7
    assert sum("(vs composed)" in row for row in rows) == 2
    assert all(" met |" in row or "NOT met |" in row for row in rows)
