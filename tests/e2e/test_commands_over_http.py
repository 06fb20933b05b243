"""POST /v1/commands over real HTTP: one status per outcome, problem+json for every refusal,
and the tenant and actor always the token's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.support.api_client import ApiClient

Clients = Callable[[str | None], ApiClient]
PROBLEM = "application/problem+json"


def _open(client: ApiClient, case_id: str, **fields: Any) -> httpx.Response:
    return client.command(
        "open_case", {"case_id": case_id, "allegation_summary": "Unlicensed lending"}, **fields
    )


def _problem(response: httpx.Response, status: int, outcome: str, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert (body["status"], body["outcome"], body["reason_code"]) == (status, outcome, reason)
    return body


def _under_review(as_: Clients, case_id: str) -> None:
    analyst, reviewer = as_("tok-analyst-t1"), as_("tok-reviewer-t1")
    assert _open(analyst, case_id).status_code == 200
    assert analyst.command("start_case_review", {"case_id": case_id}).status_code == 200
    evidence = {"case_id": case_id, "evidence_id": "e1", "title": "Ledger", "text": "40% a month"}
    assert analyst.command("submit_evidence", evidence).status_code == 200
    verdict = {"case_id": case_id, "evidence_id": "e1", "verdict": "approve"}
    assert reviewer.command("review_evidence", verdict).status_code == 200


def test_an_accepted_command_answers_200_with_its_events_and_commit_position(
    as_: Clients, case_id: str
) -> None:
    response = _open(as_("tok-analyst-t1"), case_id)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "accepted"
    assert result["events"][0]["event_type"] == "case.opened"
    assert result["commit_position"] > 0


def test_a_retried_command_answers_200_duplicate_accepted(as_: Clients, case_id: str) -> None:
    analyst = as_("tok-analyst-t1")
    first = _open(analyst, case_id, idempotency_key=f"key-{case_id}")
    again = _open(analyst, case_id, idempotency_key=f"key-{case_id}")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "duplicate_accepted"
    assert again.json()["commit_position"] == first.json()["commit_position"]


def test_an_agent_proposal_answers_202_requires_approval(as_: Clients, case_id: str) -> None:
    _under_review(as_, case_id)
    proposal = {
        "case_id": case_id,
        "proposed_risk_level": "high",
        "rationale": "40% monthly interest",
        "evidence_refs": ["e1"],
        "confidence": 0.8,
    }
    response = as_("tok-agent-t1").command("propose_risk_update", proposal)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "requires_approval"
    assert response.json()["approval_request_id"]


def test_an_unknown_command_answers_422_validation_error(as_: Clients) -> None:
    response = as_("tok-analyst-t1").command("delete_everything", {})
    _problem(response, 422, "validation_error", "unknown_command")


def test_an_invalid_payload_answers_422(as_: Clients) -> None:
    response = as_("tok-analyst-t1").command("open_case", {"case_id": "x y"})
    _problem(response, 422, "validation_error", "invalid_payload")


def test_an_expected_version_no_store_can_hold_answers_422_not_500(
    as_: Clients, case_id: str
) -> None:
    analyst = as_("tok-analyst-t1")
    _open(analyst, case_id)
    for version in (2**63, 2**70):
        response = analyst.command(
            "start_case_review", {"case_id": case_id}, expected_aggregate_version=version
        )
        body = _problem(response, 422, "validation_error", "invalid_payload")
        assert "expected_aggregate_version" in body["detail"]


def test_a_body_that_is_not_an_envelope_answers_422_problem(as_: Clients) -> None:
    response = as_("tok-analyst-t1").post(
        "/v1/commands", content=b"{not json", headers={"content-type": "application/json"}
    )
    _problem(response, 422, "validation_error", "invalid_payload")


def test_an_agent_closing_a_case_answers_403_rejected(as_: Clients, case_id: str) -> None:
    _open(as_("tok-analyst-t1"), case_id)
    response = as_("tok-agent-t1").command("close_case", {"case_id": case_id, "resolution": "x"})
    _problem(response, 403, "rejected", "not_permitted")


def test_a_stale_expected_version_answers_409_conflict(as_: Clients, case_id: str) -> None:
    analyst = as_("tok-analyst-t1")
    _open(analyst, case_id)
    response = analyst.command(
        "start_case_review", {"case_id": case_id}, expected_aggregate_version=5
    )
    _problem(response, 409, "conflict", "stale_version")


def test_an_unknown_case_and_another_tenants_case_answer_the_same_404(
    as_: Clients, case_id: str
) -> None:
    assert _open(as_("tok-analyst-t1"), case_id).status_code == 200
    outsider = as_("tok-analyst-t2")
    theirs = outsider.command("start_case_review", {"case_id": case_id}, command_id="probe-1")
    missing = outsider.command(
        "start_case_review", {"case_id": f"{case_id}-none"}, command_id="probe-1b"
    )
    first = _problem(theirs, 404, "rejected", "not_found")
    second = _problem(missing, 404, "rejected", "not_found")
    first.pop("command_id")
    second.pop("command_id")
    assert first == second


def test_a_missing_token_answers_401_problem(as_: Clients, case_id: str) -> None:
    response = _open(as_(None), case_id)
    _problem(response, 401, "rejected", "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_token_answers_401_and_writes_nothing(as_: Clients, case_id: str) -> None:
    _problem(_open(as_("not-a-token"), case_id), 401, "rejected", "unauthenticated")
    assert _open(as_("tok-analyst-t1"), case_id).json()["status"] == "accepted"


def test_the_actor_of_the_events_is_the_tokens(as_: Clients, case_id: str) -> None:
    event = _open(as_("tok-analyst-t1"), case_id).json()["events"][0]
    assert (event["tenant_id"], event["actor_type"], event["actor_id"]) == ("t1", "user", "alice")


def test_a_body_naming_another_tenant_is_refused_and_writes_nothing(
    as_: Clients, case_id: str
) -> None:
    analyst = as_("tok-analyst-t1")
    _problem(_open(analyst, case_id, tenant_id="t2"), 403, "rejected", "tenant_mismatch")
    assert _open(analyst, case_id).json()["status"] == "accepted"  # the id was still free


def test_a_body_naming_another_actor_or_role_is_refused(as_: Clients, case_id: str) -> None:
    agent = as_("tok-agent-t1")
    claims: list[dict[str, Any]] = [
        {"requested_by_actor_type": "user"},
        {"requested_by_actor_id": "sam"},
        {"requested_by_roles": ["supervisor"]},
        {"run_id": "someone-elses-run"},
    ]
    for claim in claims:
        response = agent.command("close_case", {"case_id": case_id, "resolution": "x"}, **claim)
        _problem(response, 403, "rejected", "not_permitted")


def test_a_payload_naming_another_tenant_answers_403_not_404(as_: Clients, case_id: str) -> None:
    payload = {"case_id": case_id, "allegation_summary": "x", "tenant_id": "t2"}
    response = as_("tok-analyst-t1").command("open_case", payload)
    _problem(response, 403, "rejected", "tenant_mismatch")


def test_a_body_repeating_the_tokens_identity_is_accepted(as_: Clients, case_id: str) -> None:
    response = _open(
        as_("tok-analyst-t1"),
        case_id,
        tenant_id="t1",
        requested_by_actor_type="user",
        requested_by_actor_id="alice",
        requested_by_roles=["analyst"],
    )
    assert response.json()["status"] == "accepted"
