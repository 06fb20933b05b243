"""The embedded store as its own process (`caseledger eventstore serve`), for tests of what only a
separate process shows: kill -9, signals, a disk that fills up."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kurrentdbclient import KurrentDBClient


def serve_command(port: int, data_dir: Path) -> list[str]:
    args = ["eventstore", "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--data-dir", str(data_dir)]
    script = shutil.which("caseledger", path=str(Path(sys.executable).parent))
    if script:
        return [script, *args]
    return [sys.executable, "-m", "caseledger.adapters.cli.app", *args]


@dataclass
class StoreProcess:
    port: int
    data_dir: Path
    log: Path
    before_start: Callable[[], None] | None = None
    """Run in the child before it execs the store (e.g. to limit its file sizes)."""
    process: subprocess.Popen[bytes] = field(init=False)

    @property
    def url(self) -> str:
        return f"kurrentdb://127.0.0.1:{self.port}?tls=false"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                serve_command(self.port, self.data_dir),
                stdout=log,
                stderr=log,
                preexec_fn=self.before_start,  # the child only sets limits (no threads yet)
            )
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"store exited with {self.process.returncode}: {self.log_text()}")
            try:
                client = KurrentDBClient(uri=self.url)
                try:
                    client.read_gossip(timeout=1)
                    return
                finally:
                    client.close()
            except Exception:
                time.sleep(0.1)
        pytest.fail(f"store did not answer within {timeout}s: {self.log_text()}")

    def signal(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=15)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]
