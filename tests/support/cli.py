"""CLI helpers: run `caseledger` in-process (typer's runner) or as a real process; `serve` as a
real process, a writer opening cases on it over HTTP, and what its log and views show."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from typer.testing import CliRunner

from caseledger.adapters.cli.app import app
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
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


def run_slow(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`run` for commands that may take minutes (rebuilds)."""
    return subprocess.run(
        [sys.executable, "-m", "caseledger.adapters.cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
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


class Writer:
    """Opens cases over HTTP until stopped; the last commit position it saw."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.opened = 0
        self.position = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        token = self.served.tokens["analyst"]
        with httpx.Client(base_url=self.served.url, timeout=60) as client:
            while not self._stop.is_set():
                case_id = f"w-{self.opened}"
                answer = client.post(
                    "/v1/commands",
                    headers={"Authorization": f"Bearer {token}"},
                    json={
                        "command_type": "open_case",
                        "payload": {"case_id": case_id, "allegation_summary": "x"},
                    },
                )
                assert answer.status_code == 200, answer.text
                self.position = answer.json()["commit_position"]
                self.opened += 1
                time.sleep(0.02)


def event_store_url(served: Served) -> str:
    """The event store URL `serve` printed."""
    text = served.log.read_text()
    start = text.index("event store  ") + len("event store  ")
    return text[start:].split()[0]


def view_rows(store: SqliteProjectionStore, name: str) -> list[tuple[str, str]]:
    """Every row of view `name` in tenant `demo`, as sorted (key, document JSON) pairs."""
    page = store.find(name, "demo", {}, limit=100_000)
    return sorted((r.key, json.dumps(r.document, sort_keys=True)) for r in page.rows)
