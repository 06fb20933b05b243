"""Hostile and careless requests over real HTTP: authentication comes first, bodies are bounded
before they are parsed, refusals quote little of the input and are recorded (bounded) in the
token tenant's command log; never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson

from caseledger.domain.application.commandlog import commandlog_stream
from caseledger.domain.shared.errors import INPUT_BUDGET
from tests.support.live_service import Live

PROBLEM = "application/problem+json"
MARK = "…[+"
"""How a cut piece of input is marked."""


def records_of(live: Live, tenant: str, command_id: str) -> list[dict[str, Any]]:
    stream = commandlog_stream(tenant)
    found = [orjson.loads(r.data) for r in live.app.store.read_stream(stream)]
    return [r for r in found if r["command_id"] == command_id]


def raw_record_sizes(live: Live, tenant: str) -> list[int]:
    return [
        len(r.data) + len(r.metadata) for r in live.app.store.read_stream(commandlog_stream(tenant))
    ]


def post(live: Live, path: str, content: bytes, token: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{live.url}{path}", content=content, headers=headers, timeout=60)


def test_a_500_kb_key_name_is_a_bounded_422_and_a_bounded_record(live: Live, case_id: str) -> None:
    command_id = f"cmd-{uuid.uuid4().hex}"
    key = "k" * 500_000
    body = {
        "command_type": "open_case",
        "command_id": command_id,
        "payload": {"case_id": case_id, "allegation_summary": "x", key: "v" * 1000},
    }

    answer = post(live, "/v1/commands", orjson.dumps(body), "tok-analyst-t1")

    assert answer.status_code == 422, answer.text[:300]
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["reason_code"] == "invalid_payload"
    assert MARK in problem["detail"]
    assert problem["detail"].count("k") <= INPUT_BUDGET + 20  # the cut key and a few words
    assert len(answer.content) < 2_000
    [record] = records_of(live, "t1", command_id)
    assert record["reason_code"] == "invalid_payload"
    assert MARK in record["reason"]
    assert "v" * 100 not in orjson.dumps(record).decode()
    assert max(raw_record_sizes(live, "t1")) < 10_000


def test_two_huge_keys_in_a_body_under_the_limit_still_leave_a_small_record(
    live: Live, case_id: str
) -> None:
    command_id = f"cmd-{uuid.uuid4().hex}"
    payload = {"case_id": case_id, "allegation_summary": "x", "a" * 400_000: 1, "b" * 400_000: 2}
    body = {"command_type": "open_case", "command_id": command_id, "payload": payload}

    answer = post(live, "/v1/commands", orjson.dumps(body), "tok-analyst-t1")

    assert answer.status_code == 422
    assert len(answer.content) < 2_000
    [record] = records_of(live, "t1", command_id)
    assert len(orjson.dumps(record)) < 3_000


def test_an_18_mb_body_is_413_before_it_is_parsed(live: Live) -> None:
    body = b'{"command_type": "open_case", "payload": {"x": "' + b"y" * 18_000_000 + b'"}}'

    answer = post(live, "/v1/commands", body, "tok-analyst-t1")

    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["reason_code"] == "payload_too_large"
    assert "1048576" in answer.json()["detail"]


def test_a_body_over_the_limit_without_a_declared_length_is_413_too(live: Live) -> None:
    def chunks() -> Any:
        yield b'{"command_type": "open_case", "payload": {"x": "'
        for _ in range(3):
            yield b"y" * 1_000_000
        yield b'"}}'

    answer = httpx.post(
        f"{live.url}/v1/queries",
        content=chunks(),
        headers={"Authorization": "Bearer tok-analyst-t1", "Content-Type": "application/json"},
        timeout=60,
    )

    assert answer.status_code == 413
    assert answer.json()["reason_code"] == "payload_too_large"


def test_without_a_token_even_a_huge_body_is_401(live: Live) -> None:
    answer = post(live, "/v1/commands", b"{" + b" " * 2_000_000 + b"}", None)

    assert answer.status_code == 401
    assert answer.json()["reason_code"] == "unauthenticated"


def test_a_spoofed_tenant_is_refused_and_recorded_in_the_token_tenants_log(
    live: Live, case_id: str
) -> None:
    command_id = f"cmd-{uuid.uuid4().hex}"
    answer = live.client("tok-analyst-t1").command(
        "open_case",
        {"case_id": case_id, "allegation_summary": "x"},
        tenant_id="t2",
        command_id=command_id,
    )

    assert answer.status_code == 403
    assert answer.json()["reason_code"] == "tenant_mismatch"
    [record] = records_of(live, "t1", command_id)
    assert (record["reason_code"], record["command_type"], record["actor_id"]) == (
        "tenant_mismatch",
        "open_case",
        "alice",
    )
    assert records_of(live, "t2", command_id) == []


def test_a_spoofed_actor_or_run_in_a_query_is_refused_and_recorded(live: Live) -> None:
    query_id = f"q-{uuid.uuid4().hex}"
    answer = live.client("tok-agent-t1").query(
        "get_case_summary", {"case_id": "any"}, run_id="run-other", query_id=query_id
    )

    assert answer.status_code == 403
    assert answer.json()["reason_code"] == "not_permitted"
    [record] = records_of(live, "t1", query_id)
    assert (record["reason_code"], record["command_type"], record["run_id"]) == (
        "not_permitted",
        "query:get_case_summary",
        "run-1",
    )


def test_a_body_that_is_not_utf8_is_422_with_a_token_and_401_without(live: Live) -> None:
    body = b'{"command_type": "open_case", "payload": {"case_id": "\xff\xfe"}}'

    with_token = post(live, "/v1/commands", body, "tok-analyst-t1")
    without = post(live, "/v1/commands", body, None)
    unknown = post(live, "/v1/commands", body, "not-a-token")

    assert with_token.status_code == 422
    assert with_token.headers["content-type"] == PROBLEM
    assert (with_token.json()["outcome"], with_token.json()["reason_code"]) == (
        "validation_error",
        "invalid_payload",
    )
    assert without.status_code == 401
    assert unknown.status_code == 401
    assert without.json()["reason_code"] == "unauthenticated"


def test_a_body_that_is_not_json_is_422_and_401_without_a_token(live: Live) -> None:
    assert post(live, "/v1/queries", b"{not json", "tok-analyst-t1").status_code == 422
    assert post(live, "/v1/queries", b"{not json", None).status_code == 401


def test_a_wrong_method_is_405_with_allow(live: Live) -> None:
    answer = live.client("tok-analyst-t1").get("/v1/commands")

    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["reason_code"] == "method_not_allowed"


def test_already_exists_and_a_reused_key_are_409(live: Live, case_id: str) -> None:
    analyst = live.client("tok-analyst-t1")
    opened = analyst.command(
        "open_case", {"case_id": case_id, "allegation_summary": "x"}, idempotency_key=case_id
    )
    again = analyst.command("open_case", {"case_id": case_id, "allegation_summary": "x"})
    reused = analyst.command(
        "open_case", {"case_id": case_id, "allegation_summary": "other"}, idempotency_key=case_id
    )

    assert opened.status_code == 200
    assert (again.status_code, again.json()["reason_code"]) == (409, "already_exists")
    assert (reused.status_code, reused.json()["reason_code"]) == (409, "idempotency_key_reused")
