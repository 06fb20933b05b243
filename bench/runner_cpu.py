"""CPU per command of each thread of the process that takes the commands, and of the runner's
child process, with the projection runner in a thread and in a child process (`bench_peers`'
apps): what the interpreter lock serializes, measured in CPU time, which other load on the
machine barely moves (wall-clock rates do).

    flock /tmp/caseledger-heavy.lock .venv/bin/python -m bench.runner_cpu [--commands 2000]
        [--rounds 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.bench_peers import _settle, caseledger, stat_cpu, thread_cpu
from caseledger.adapters.runner_process.supervisor import RunnerProcess
from caseledger.adapters.runtime import tune_gc


def measure(root: Path, runner_in: str, commands: int) -> None:
    with caseledger(root / f"{runner_in}-{time.monotonic_ns()}", "inprocess", True, runner_in) as (
        app,
        hot,
    ):
        settle = _settle(app)
        for _ in range(200):  # warm up
            hot()
        settle()
        child = app.runner.pid if isinstance(app.runner, RunnerProcess) else None
        child_stat = None if child is None else f"/proc/{child}/stat"
        before, child_before = thread_cpu(), 0.0 if child_stat is None else stat_cpu(child_stat)
        started = time.perf_counter()
        for _ in range(commands):
            hot()
        settle()
        elapsed = time.perf_counter() - started
        after, child_after = thread_cpu(), 0.0 if child_stat is None else stat_cpu(child_stat)
    spent = {n: after[n] - before.get(n, 0.0) for n in after if after[n] > before.get(n, 0.0)}
    total = sum(spent.values())
    print(f"\nrunner in a {runner_in}: {commands / elapsed:,.0f} commands/s (wall, noisy)")
    print("| CPU µs per command | |\n|---|---|")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {name} | {1e6 * seconds / commands:,.0f} |")
    print(f"| this process, all threads | {1e6 * total / commands:,.0f} |")
    if child_stat is not None:
        per_command = 1e6 * (child_after - child_before) / commands
        print(f"| the runner's child process | {per_command:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tune_gc()
    with tempfile.TemporaryDirectory(prefix="bench-runner-cpu-") as root:
        for _ in range(args.rounds):
            for runner_in in ("thread", "child"):
                measure(Path(root), runner_in, args.commands)


if __name__ == "__main__":
    main()
