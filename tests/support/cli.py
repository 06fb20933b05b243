"""CLI helpers: run `caseledger` in-process (typer's runner) or as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from caseledger.adapters.cli.app import app
from tests.support.ports import free_port

runner = CliRunner()


def invoke(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def run(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "caseledger.adapters.cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Served:
    """A `caseledger serve` process, its URL, the demo tokens it printed and its log."""

    process: subprocess.Popen[str]
    url: str
    tokens: dict[str, str]
    env: dict[str, str]
    log: Path

    def stop(self) -> int:
        """SIGTERM, then the exit code (killed if it does not stop)."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


def serve_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a zero-config `serve` in `home` (plus `settings`, CASELEDGER_*)."""
    env = {
        **os.environ,
        "CASELEDGER_DATA_DIR": str(home / "data"),
        "CASELEDGER_EVENTSTORE_PORT": str(free_port()),
        "COLUMNS": "200",
    }
    for name in list(env):
        if name.startswith("CASELEDGER_") and name not in (
            "CASELEDGER_DATA_DIR",
            "CASELEDGER_EVENTSTORE_PORT",
        ):
            env.pop(name)
    env.update({f"CASELEDGER_{k.upper()}": v for k, v in settings.items()})
    return env


def start_serve(home: Path, env: dict[str, str], *args: str) -> Served:
    """`caseledger serve --port 0 ARGS` as a real process, once it announced itself."""
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "caseledger.adapters.cli.app", "serve", "--port", "0", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 60
    while "Ctrl-C" not in log.read_text() and process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(log.read_text())
        time.sleep(0.1)
    text = log.read_text()
    found = re.search(r"serving at (http://\S+)", text)
    if found is None:
        process.kill()
        raise AssertionError(text)
    tokens = dict(re.findall(r"(\w+)\s+│\s+(demo-\w+-\S+)", text))
    return Served(process, found.group(1), tokens, env, log)
