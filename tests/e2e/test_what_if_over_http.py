"""`POST /v1/audit/what-if` over real HTTP: a supervisor's draft re-decides the tenant's past
decisions and answers the JSON report; nobody else may ask; a draft `publish_policy` would
refuse is 422; nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.api_client import ApiClient
from tests.support.live_service import Live

CURRENT = {
    "risk_update": {"approver_roles": ["reviewer", "supervisor"], "auto_commit_min_confidence": 0.6}
}
PATH = "/v1/audit/what-if"


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code < 300, answer.text
    return dict(answer.json())


def under_review(as_: Callable[[str], ApiClient], case_id: str) -> None:
    analyst, reviewer = as_("tok-analyst-t1"), as_("tok-reviewer-t1")
    ok(analyst.command("open_case", {"case_id": case_id, "allegation_summary": "late filings"}))
    ok(analyst.command("start_case_review", {"case_id": case_id}))
    evidence = {"case_id": case_id, "evidence_id": "e1", "title": "ledger", "text": "entries"}
    ok(analyst.command("submit_evidence", evidence))
    verdict = {"case_id": case_id, "evidence_id": "e1", "verdict": "approve"}
    ok(reviewer.command("review_evidence", verdict))


def propose(as_: Callable[[str], ApiClient], case_id: str, confidence: float) -> dict[str, Any]:
    payload = {
        "case_id": case_id,
        "proposed_risk_level": "high",
        "rationale": "late filings",
        "evidence_refs": ["e1"],
        "confidence": confidence,
    }
    return ok(as_("tok-agent-t1").command("propose_risk_update", payload))


@pytest.fixture(scope="module")
def history(live: Live) -> Iterator[dict[str, str]]:
    """A policy with an auto-commit floor of 0.6; one proposal committed by it, one decided by
    a reviewer: the event of each."""
    clients: list[ApiClient] = []

    def as_(token: str) -> ApiClient:
        clients.append(live.client(token))
        return clients[-1]

    publish = {"policy_version": "wi-1", "rules": CURRENT}
    ok(as_("tok-supervisor-t1").command("publish_policy", publish))
    under_review(as_, "wi-auto")
    under_review(as_, "wi-human")
    auto = propose(as_, "wi-auto", 0.7)
    human = propose(as_, "wi-human", 0.5)
    decision = {
        "case_id": "wi-human",
        "approval_request_id": human["approval_request_id"],
        "proposal_digest": human["events"][0]["payload"]["digest"],
        "decision": "approve",
    }
    decided = ok(as_("tok-reviewer-t1").command("decide_proposal", decision))
    yield {
        "auto": f"{auto['stream_id']}@{auto['events'][0]['stream_revision']}",
        "reviewer": f"{decided['stream_id']}@{decided['stream_revision']}",
    }
    for client in clients:
        client.close()


def test_a_supervisor_gets_the_decisions_a_higher_floor_would_have_changed(
    live: Live, history: dict[str, str], as_: Callable[[str | None], ApiClient]
) -> None:
    draft = {"risk_update": {**CURRENT["risk_update"], "auto_commit_min_confidence": 0.8}}
    head = live.app.store.head_position()

    report = ok(as_("tok-supervisor-t1").post(PATH, json=draft))

    assert [d["event"] for d in report["differences"]] == [history["auto"]]
    listed = report["differences"][0]
    assert (listed["case_id"], listed["who"]) == ("wi-auto", "agent:risk-bot")
    assert listed["then"]["outcome"] == "accepted"
    assert listed["draft"]["outcome"] == "requires_approval"
    assert listed["rules"] == ["risk_update.auto_commit_min_confidence"]
    assert report["totals"] == {"risk_update.auto_commit_min_confidence": 1}
    assert report["complete"] is True
    assert live.app.store.head_position() == head  # nothing written


def test_removing_reviewer_lists_the_reviewers_decision(
    history: dict[str, str], as_: Callable[[str | None], ApiClient]
) -> None:
    draft = {"risk_update": {**CURRENT["risk_update"], "approver_roles": ["supervisor"]}}

    report = ok(as_("tok-supervisor-t1").post(PATH, json=draft))

    assert [d["event"] for d in report["differences"]] == [history["reviewer"]]
    assert report["differences"][0]["who"] == "user:rita (reviewer)"
    assert report["differences"][0]["draft"]["reason_code"] == "approver_role_required"


def test_the_current_policy_lists_nothing(
    history: dict[str, str], as_: Callable[[str | None], ApiClient]
) -> None:
    report = ok(as_("tok-supervisor-t1").post(PATH, json=CURRENT))

    assert report["differences"] == []
    assert report["totals"] == {}
    assert report["examined"] >= 3


@pytest.mark.parametrize("token", ["tok-reviewer-t1", "tok-agent-t1", "tok-analyst-t1"])
def test_nobody_but_a_supervisor_may_ask(
    token: str, as_: Callable[[str | None], ApiClient]
) -> None:
    answer = as_(token).post(PATH, json=CURRENT)

    assert answer.status_code == 403
    assert (answer.json()["outcome"], answer.json()["reason_code"]) == ("forbidden", "forbidden")


def test_without_a_token_it_is_401(as_: Callable[[str | None], ApiClient]) -> None:
    assert as_(None).post(PATH, json=CURRENT).status_code == 401


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"agent_commands": ["close_case"]}', "agents can never be granted"),
        (b'{"min_proposal_confidence": 2}', "min_proposal_confidence"),
        (b'{"no_such_rule": 1}', "no_such_rule"),
        (b'["not", "an", "object"]', "object"),
        (b"not json", "not UTF-8 JSON"),
        (b"", "not UTF-8 JSON"),
    ],
)
def test_a_draft_publish_policy_would_refuse_is_422(
    body: bytes, named: str, as_: Callable[[str | None], ApiClient]
) -> None:
    answer = as_("tok-supervisor-t1").post(
        PATH, content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["reason_code"] == "invalid_payload"
    assert named in answer.json()["detail"]


def test_since_that_is_not_a_date_is_422(as_: Callable[[str | None], ApiClient]) -> None:
    answer = as_("tok-supervisor-t1").post(PATH, json=CURRENT, params={"since": "yesterday"})

    assert answer.status_code == 422
    assert answer.json()["reason_code"] == "invalid_payload"


def test_since_after_every_decision_lists_nothing(
    history: dict[str, str], as_: Callable[[str | None], ApiClient]
) -> None:
    draft = {"risk_update": {**CURRENT["risk_update"], "auto_commit_min_confidence": 0.8}}

    report = ok(as_("tok-supervisor-t1").post(PATH, json=draft, params={"since": "2999-01-01"}))

    assert report["differences"] == []
    assert report["since"].startswith("2999-01-01T00:00:00")
