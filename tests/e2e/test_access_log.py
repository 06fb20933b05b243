"""The access log and `X-Request-Id` over real HTTP: one record per request with method, path,
status, duration, tenant, actor and request id (never a token or a body); every answer
carries its request id, a refusal, a 413 and a failure included."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from caseledger.adapters.http.access import MAX_PATH, configure_access_log, log, printable
from caseledger.adapters.http.app import create_app
from caseledger.adapters.observability.logs import JsonFormatter
from caseledger.domain.shared.envelopes import QueryEnvelope, QueryResult
from tests.support.live_service import Live

SECRET = "tok-analyst-t1"


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=log.name)
    return caplog


def access(records: pytest.LogCaptureFixture, request_id: str) -> logging.LogRecord:
    """The one record of `request_id` (written once the answer is sent: waited for)."""
    deadline = time.monotonic() + 30
    while True:
        found = [
            r
            for r in list(records.records)
            if r.name == log.name and r.__dict__["request_id"] == request_id
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert len(found) == 1, [r.getMessage() for r in records.records]
    return found[0]


def test_a_command_is_logged_once_with_its_tenant_actor_status_and_request_id(
    live: Live, records: pytest.LogCaptureFixture, case_id: str
) -> None:
    body = {"command_type": "open_case", "payload": {"case_id": case_id, "allegation_summary": "x"}}
    answer = httpx.post(
        f"{live.url}/v1/commands", json=body, headers={"Authorization": f"Bearer {SECRET}"}
    )

    assert answer.status_code == 200
    record = access(records, answer.headers["x-request-id"])
    fields = {k: record.__dict__[k] for k in ("method", "path", "status", "tenant", "actor")}
    assert fields == {
        "method": "POST",
        "path": "/v1/commands",
        "status": 200,
        "tenant": "t1",
        "actor": "user:alice",
    }
    assert record.__dict__["duration_ms"] >= 0
    line = record.getMessage()
    assert line.startswith("POST /v1/commands 200 ")
    assert f"request_id={answer.headers['x-request-id']}" in line
    assert SECRET not in line
    assert case_id not in line


@pytest.mark.parametrize(
    ("method", "path", "token", "content", "status"),
    [
        ("POST", "/v1/commands", None, b"{}", 401),
        ("POST", "/v1/commands", SECRET, b"x" * 2_000_000, 413),
        ("GET", "/v1/commands", SECRET, None, 405),
        ("GET", "/nowhere", None, None, 404),
        ("GET", "/healthz", None, None, 200),
        ("GET", "/docs", None, None, 200),
    ],
)
def test_every_answer_carries_a_request_id_and_is_logged(
    live: Live,
    records: pytest.LogCaptureFixture,
    method: str,
    path: str,
    token: str | None,
    content: bytes | None,
    status: int,
) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    answer = httpx.request(method, f"{live.url}{path}", content=content, headers=headers)

    assert answer.status_code == status
    record = access(records, answer.headers["x-request-id"])
    assert (record.__dict__["status"], record.__dict__["path"]) == (status, path)
    if status == 401:
        assert (record.__dict__["tenant"], record.__dict__["actor"]) == ("-", "-")


def test_a_clients_request_id_is_kept_when_it_is_a_short_token_and_replaced_otherwise(
    live: Live,
) -> None:
    kept = httpx.get(f"{live.url}/healthz", headers={"X-Request-Id": "trace-42.a:b"})
    long = httpx.get(f"{live.url}/healthz", headers={"X-Request-Id": "a" * 65})
    spaced = httpx.get(f"{live.url}/healthz", headers={"X-Request-Id": "a b"})

    assert kept.headers["x-request-id"] == "trace-42.a:b"
    assert long.headers["x-request-id"] not in ("a" * 65, "")
    assert spaced.headers["x-request-id"] not in ("a b", "")


def test_a_hostile_path_is_one_bounded_word_in_the_log(
    live: Live, records: pytest.LogCaptureFixture
) -> None:
    answer = httpx.get(f"{live.url}/x%0Afake%20line%20{'y' * 500}")

    record = access(records, answer.headers["x-request-id"])
    line = record.getMessage()
    assert "\n" not in line
    path = record.__dict__["path"]
    assert path.startswith("/x\\nfake\\x20line\\x20y")
    assert path.endswith("y…")
    assert path.count("y") == MAX_PATH - len("/x\nfake line ")
    assert " " not in path


class _Failing:
    def handle(self, query: QueryEnvelope) -> QueryResult:
        raise RuntimeError("a bug")


def test_a_failure_is_a_500_that_carries_its_request_id_and_is_logged(
    live: Live, records: pytest.LogCaptureFixture
) -> None:
    api = create_app(live.app, queries=_Failing())
    with TestClient(api, raise_server_exceptions=False) as client:
        answer = client.post(
            "/v1/queries",
            json={"query_type": "list_cases", "payload": {}},
            headers={"Authorization": f"Bearer {SECRET}"},
        )

    assert answer.status_code == 500
    assert answer.json()["reason_code"] == "internal_error"
    assert access(records, answer.headers["x-request-id"]).__dict__["status"] == 500


@pytest.fixture
def restored() -> Iterator[None]:
    saved = (log.handlers[:], log.level, log.propagate, log.disabled)
    yield
    log.handlers, log.level, log.propagate, log.disabled = saved


def _one_request(live: Live) -> str:
    with TestClient(create_app(live.app)) as client:
        return str(client.get("/healthz").headers["x-request-id"])


def test_plain_text_lines_go_to_stderr_unless_switched_off(
    live: Live, restored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_access_log(True, json_lines=False)
    request_id = _one_request(live)
    configure_access_log(False, json_lines=False)
    silent_id = _one_request(live)

    err = capsys.readouterr().err
    assert "GET /healthz 200 " in err
    assert f"request_id={request_id}" in err
    assert silent_id not in err


def test_json_lines_go_through_the_json_log_handler_when_otel_is_on(
    live: Live, restored: None
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        configure_access_log(True, json_lines=True)
        request_id = _one_request(live)
    finally:
        root.removeHandler(handler)

    entries = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    entry = next(e for e in entries if e.get("request_id") == request_id)
    assert {k: entry[k] for k in ("method", "path", "status", "tenant", "actor")} == {
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "tenant": "-",
        "actor": "-",
    }
    assert isinstance(entry["duration_ms"], float)


def test_printable_escapes_what_would_break_a_line() -> None:
    assert printable("/a b\\c\n\u2028", 100) == "/a\\x20b\\\\c\\n\\u2028"
    assert printable("y" * 10, 4) == "yyyy…"
