"""`caseledger serve` as a newcomer runs it: zero config, demo tokens, answers over HTTP, the
one-off CLI commands talk to it, and SIGTERM stops it cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import Result

from caseledger.adapters.cli.app import app
from tests.support.cli import Served, run, runner, serve_env, start_serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve")
    started = start_serve(home, serve_env(home, outbox="off"))
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.process.kill()
            started.process.wait(10)


def _as(served: Served, who: str, *args: str) -> Result:
    """`caseledger <args> --url <serve> --token <who's demo token>`, in this process."""
    return runner.invoke(app, [*args, "--url", served.url, "--token", served.tokens[who]])


def test_serve_writes_demo_tokens_and_prints_them(served: Served) -> None:
    assert set(served.tokens) == {"analyst", "reviewer", "supervisor", "agent", "system"}
    assert (Path(served.env["CASELEDGER_DATA_DIR"]) / "tokens.toml").exists()


def test_serve_with_outbox_off_starts_no_relay_and_says_so(served: Served) -> None:
    text = served.log.read_text()

    assert "outbox relay not running: CASELEDGER_OUTBOX=off" in text
    assert "notices      not sent here: CASELEDGER_SMTP_HOST is not set" in text
    assert not (Path(served.env["CASELEDGER_DATA_DIR"]) / "outbox.sqlite3").exists()


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
    replayed = run(["replay", "case", "cli-2", "--tenant", "demo", "--json"], served.env)
    assert replayed.returncode == 0, replayed.stderr
    document = orjson.loads(replayed.stdout)
    assert (document["revision"], document["history"][0]["actor_id"]) == (0, "alice")


def test_query_and_command_print_aligned_text_without_python_repr(served: Served) -> None:
    payload = '{"case_id": "cli-3", "allegation_summary": "Unlicensed lending"}'
    opened = _as(served, "analyst", "command", "--type", "open_case", "--payload", payload)
    assert opened.exit_code == 0, opened.output
    lines = opened.stdout.splitlines()
    assert lines[0] == "accepted (200)"
    assert re.fullmatch(r"stream_revision  0", next(x for x in lines if "revision" in x))
    assert any(x.endswith("  case.opened") for x in lines)

    question = '{"case_id": "cli-3", "max_wait_ms": 5000, "min_position": 0}'
    asked = _as(served, "supervisor", "query", "--type", "get_case_summary", "--payload", question)
    assert asked.exit_code == 0, asked.output
    text = asked.stdout
    assert text.splitlines()[0] == "ok (200)"
    assert re.search(r"^    status +opened$", text, re.MULTILINE)
    assert re.search(r"^    risk_level +null$", text, re.MULTILINE)
    assert re.search(r"^    reached +true$", text, re.MULTILINE)
    for python in ("None", "True", "False", "'", "{'"):
        assert python not in text
    as_json = _as(
        served, "supervisor", "query", "--type", "get_case_summary", "--payload", question, "--json"
    )
    assert orjson.loads(as_json.stdout)["data"]["case_summary"]["risk_level"] is None


def test_serve_logs_each_request_once_without_its_token(served: Served) -> None:
    answer = httpx.get(f"{served.url}/healthz", headers={"X-Request-Id": "probe-7"})
    token = served.tokens["analyst"]
    body = {"command_type": "open_case", "payload": {"case_id": "cli-4", "allegation_summary": "x"}}
    opened = httpx.post(
        f"{served.url}/v1/commands", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    request_id = opened.headers["x-request-id"]

    assert answer.headers["x-request-id"] == "probe-7"
    line = _log_line(served, f"request_id={request_id}")
    assert re.search(
        r"POST /v1/commands 200 [0-9.]+ ms tenant=demo actor=user:\S+ request_id=", line
    ), line
    assert "GET /healthz 200 " in _log_line(served, "request_id=probe-7")
    after_start = served.log.read_text().split("Ctrl-C (or SIGTERM) stops it cleanly.")[1]
    assert "/v1/commands" in after_start
    assert token not in after_start
    assert "cli-4" not in after_start


def _log_line(served: Served, marker: str) -> str:
    """The one log line holding `marker` (the access record follows its answer: waited for)."""
    deadline = time.monotonic() + 30
    while True:
        found = [x for x in served.log.read_text().splitlines() if marker in x]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.05)


def test_serve_writes_json_access_lines_when_otel_is_on(tmp_path: Path) -> None:
    started = start_serve(tmp_path, serve_env(tmp_path, outbox="off", otel="console"))
    try:
        answer = httpx.get(f"{started.url}/healthz")
        line = _log_line(started, f'"request_id":"{answer.headers["x-request-id"]}"')
        entry = orjson.loads(line)
        assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)
        payload = '{"case_id": "traced-1", "allegation_summary": "x"}'
        opened = _as(started, "analyst", "command", "--type", "open_case", "--payload", payload)
        assert opened.exit_code == 0, opened.output
        traced = orjson.loads(_log_line(started, '"message":"command open_case: accepted"'))
        assert traced["logger"] == "caseledger.commands"  # the stack's tracing decorator
        assert len(traced["trace_id"]) == 32
    finally:
        assert started.stop() == 0


def test_sigterm_stops_serve_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0
    assert "stopped cleanly" in served.log.read_text()


def test_serve_without_a_runner_answers_from_the_views_a_separate_runner_keeps(
    tmp_path: Path,
) -> None:
    api = start_serve(tmp_path, serve_env(tmp_path, outbox="off"), "--no-runner")
    runner_log = tmp_path / "runner.log"
    try:
        assert "kept by a separate runner: --no-runner" in api.log.read_text()
        with runner_log.open("w") as out:
            separate = subprocess.Popen(
                [sys.executable, "-m", "caseledger.adapters.cli.app", "projections", "run"],
                env=api.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        try:
            deadline = time.monotonic() + 60
            while "Ctrl-C" not in runner_log.read_text():
                assert separate.poll() is None, runner_log.read_text()
                assert time.monotonic() < deadline, runner_log.read_text()
                time.sleep(0.1)
            payload = '{"case_id": "apart-1", "allegation_summary": "x"}'
            opened = _as(
                api, "analyst", "command", "--type", "open_case", "--payload", payload, "--json"
            )
            assert opened.exit_code == 0, opened.output
            position = orjson.loads(opened.stdout)["commit_position"]
            question = {"case_id": "apart-1", "min_position": position, "max_wait_ms": 5000}
            asked = _as(
                api,
                "reviewer",
                "query",
                "--type",
                "get_case_summary",
                "--payload",
                orjson.dumps(question).decode(),
                "--json",
            )
            assert asked.exit_code == 0, asked.output + runner_log.read_text()
            answer = orjson.loads(asked.stdout)
            assert (answer["status"], answer["data"]["case_summary"]["status"]) == (
                "ok",
                "opened",
            )
        finally:
            separate.terminate()
            assert separate.wait(30) == 0, runner_log.read_text()
        assert "stopped cleanly" in runner_log.read_text()
    finally:
        assert api.stop() == 0


def test_a_second_serve_on_the_same_data_dir_is_refused_naming_the_first(
    tmp_path: Path,
) -> None:
    first = start_serve(tmp_path, serve_env(tmp_path, outbox="off"))
    try:
        second_env = {**first.env, "CASELEDGER_EVENTSTORE_PORT": "0"}
        second = subprocess.run(
            [sys.executable, "-m", "caseledger.adapters.cli.app", "serve", "--port", "0"],
            env=second_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        said = " ".join(second.stderr.split())
        assert f"HTTP API {first.url}" in said, said
        assert "--no-runner" in said
        assert "CASELEDGER_EVENTSTORE_URL" in said
        assert "CASELEDGER_READSTORE_URL" in said
        assert httpx.get(f"{first.url}/healthz").json() == {"status": "ok"}
    finally:
        assert first.stop() == 0
