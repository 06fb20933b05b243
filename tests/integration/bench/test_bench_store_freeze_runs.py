"""The frozen-store benchmark still runs end to end (tiny sizes): its figures are issue 16's
closing note, so a bench that no longer starts or prints must fail here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_freeze_part_prints_the_slowest_answers_and_the_retries() -> None:
    tiny = ["--freeze", "1", "--deadline", "0.5", "--clients", "2", "--samples", "0"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_store_freeze", *tiny],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| command answers overlapping the freeze",
        "| /healthz from the freeze on",
        "| /readyz asked and answered within the freeze",
    ]
    assert "timed-out keys retried" in result.stdout
