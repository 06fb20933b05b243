"""Idempotency keys have bounds: at most 200 characters of the id grammar's charset. Anything
else is refused over HTTP naming the field and the rule, never echoing the key."""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest

from caseledger.domain.shared.ids import IDEMPOTENCY_KEY_MAX
from tests.support.live_service import Live


def open_case(
    live: Live, case_id: str, key: str | None, command_id: str | None = None
) -> httpx.Response:
    body = {
        "command_type": "open_case",
        "command_id": command_id or f"cmd-{uuid.uuid4().hex}",
        "payload": {"case_id": case_id, "allegation_summary": "x"},
    }
    if key is not None:
        body["idempotency_key"] = key
    return httpx.post(
        f"{live.url}/v1/commands",
        content=orjson.dumps(body),
        headers={"Content-Type": "application/json", "Authorization": "Bearer tok-analyst-t1"},
        timeout=60,
    )


@pytest.mark.parametrize(
    "key",
    [
        "k" * (IDEMPOTENCY_KEY_MAX + 1),
        "z" * 100_000,
        "key with spaces",
        "kéy-ünicode",
        "key/with/slashes",
        "-starts-with-a-dash",
    ],
    ids=["201", "100k", "spaces", "unicode", "slashes", "dash-first"],
)
def test_a_key_outside_the_grammar_is_refused_without_echoing_it(
    live: Live, case_id: str, key: str
) -> None:
    answer = open_case(live, case_id, key)

    assert answer.status_code == 422, answer.text[:300]
    problem = answer.json()
    assert problem["reason_code"] == "invalid_payload"
    assert "idempotency_key" in problem["detail"]
    assert key not in answer.text
    assert key[:40] not in answer.text
    assert len(answer.content) < 2_000


def test_a_key_of_200_characters_of_the_grammar_is_taken(live: Live, case_id: str) -> None:
    answer = open_case(live, case_id, "K." + "k_:-9" * 39 + "ab1")

    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["status"] == "accepted"


def test_a_command_id_outside_the_key_grammar_still_keys_a_command_sent_without_one(
    live: Live, case_id: str
) -> None:
    command_id = f"my command {uuid.uuid4().hex} / retry-safe"

    first = open_case(live, case_id, None, command_id)
    again = open_case(live, case_id, None, command_id)

    assert first.status_code == 200, first.text[:300]
    assert [first.json()["status"], again.json()["status"]] == ["accepted", "duplicate_accepted"]
