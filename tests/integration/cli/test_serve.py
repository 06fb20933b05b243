"""`caseledger serve` as a newcomer runs it: zero config, demo tokens, answers over HTTP, the
one-off CLI commands talk to it, and SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import Result

from caseledger.adapters.cli.app import app
from tests.integration.cli.conftest import free_port, run, runner

pytestmark = pytest.mark.slow


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    tokens: dict[str, str]
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "CASELEDGER_DATA_DIR": str(home / "data"),
        "CASELEDGER_EVENTSTORE_PORT": str(free_port()),
        "COLUMNS": "200",
    }
    for name in ("CASELEDGER_TOKENS_FILE", "CASELEDGER_EVENTSTORE_URL", "CASELEDGER_READSTORE_URL"):
        env.pop(name, None)
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "caseledger.adapters.cli.app", "serve", "--port", "0"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 60
    while "Ctrl-C" not in log.read_text() and process.poll() is None:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    text = log.read_text()
    found = re.search(r"serving at (http://\S+)", text)
    assert found, text
    tokens = dict(re.findall(r"(\w+)\s+│\s+(demo-\w+-\S+)", text))
    try:
        yield Served(process, found.group(1), tokens, env, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _as(served: Served, who: str, *args: str) -> Result:
    """`caseledger <args> --url <serve> --token <who's demo token>`, in this process."""
    return runner.invoke(app, [*args, "--url", served.url, "--token", served.tokens[who]])


def test_serve_writes_demo_tokens_and_prints_them(served: Served) -> None:
    assert set(served.tokens) == {"analyst", "reviewer", "supervisor", "agent", "system"}
    assert (Path(served.env["CASELEDGER_DATA_DIR"]) / "tokens.toml").exists()


def test_serve_answers_health_and_readiness(served: Served) -> None:
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    deadline = time.monotonic() + 30
    while httpx.get(f"{served.url}/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_command_and_query_cli_talk_to_the_running_service(served: Served) -> None:
    payload = '{"case_id": "cli-1", "allegation_summary": "Unlicensed lending"}'
    opened = _as(
        served, "analyst", "command", "--type", "open_case", "--payload", payload, "--json"
    )
    assert opened.exit_code == 0, opened.output
    position = orjson.loads(opened.stdout)["commit_position"]
    payload = orjson.dumps({"case_id": "cli-1", "min_position": position}).decode()
    asked = _as(
        served, "agent", "query", "--type", "get_case_summary", "--payload", payload, "--json"
    )
    assert asked.exit_code == 0, asked.output
    assert orjson.loads(asked.stdout)["data"]["case_summary"]["status"] == "opened"


def test_a_refused_command_exits_1_with_its_reason(served: Served) -> None:
    payload = '{"case_id": "cli-1", "resolution": "x"}'
    refused = _as(served, "agent", "command", "--type", "close_case", "--payload", payload)
    assert refused.exit_code == 1
    assert "not_permitted" in refused.stderr


def test_replay_reads_through_the_running_serve(served: Served) -> None:
    payload = '{"case_id": "cli-2", "allegation_summary": "x"}'
    opened = _as(served, "analyst", "command", "--type", "open_case", "--payload", payload)
    assert opened.exit_code == 0, opened.output
    replayed = run(["replay", "case", "cli-2", "--json"], served.env)
    assert replayed.returncode == 0, replayed.stderr
    document = orjson.loads(replayed.stdout)
    assert (document["revision"], document["history"][0]["actor_id"]) == (0, "alice")


def test_sigterm_stops_serve_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0
    assert "stopped cleanly" in served.log.read_text()
