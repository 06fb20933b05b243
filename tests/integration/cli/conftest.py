"""CLI helpers: run `caseledger` in-process (typer's runner) or as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Sequence

from typer.testing import CliRunner

from caseledger.adapters.cli.app import app

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
