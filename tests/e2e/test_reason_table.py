"""Every row of the table of reasons, exercised over real HTTP: the answer carries the row's
status, outcome and reason code. Most rows are provoked on the real service; the few it cannot
be driven to on demand (a lost race, an exhausted budget, a failure) are answered by a stub
service behind the same API. The docs hold the table word for word."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from caseledger.adapters.bootstrap import PROJECTIONS_STALLED
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.reasons import REASONS, TABLE, Reason
from caseledger.adapters.http.server import HttpServer
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.ports import ANY, EventStoreUnavailable, NewEvent
from caseledger.domain.shared.envelopes import (
    CommandEnvelope,
    CommandResult,
    QueryEnvelope,
    QueryResult,
)
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.api_client import ApiClient
from tests.support.live_service import Live

ROOT = Path(__file__).resolve().parents[2]

Scenario = Callable[["World"], httpx.Response]


class World:
    """The live service, a stub service beside it, and a fresh case id per scenario."""

    def __init__(self, live: Live, stub_url: str) -> None:
        self.live = live
        self.stub_url = stub_url
        self.clients: list[ApiClient] = []

    def as_(self, token: str | None, url: str | None = None) -> ApiClient:
        client = ApiClient(url or self.live.url, token)
        self.clients.append(client)
        return client

    def stubbed(self, answer: str) -> httpx.Response:
        """The stub service's answer to a command asking it for `answer`."""
        return self.as_("tok-analyst-t1", self.stub_url).command("open_case", {"answer": answer})

    def stubbed_query(self, answer: str) -> httpx.Response:
        return self.as_("tok-analyst-t1", self.stub_url).query("get_case", {"answer": answer})

    def case(self, *, review: bool = False) -> str:
        case_id = f"rt-{uuid.uuid4().hex[:12]}"
        analyst = self.as_("tok-analyst-t1")
        done = analyst.command("open_case", {"case_id": case_id, "allegation_summary": "x"})
        assert done.status_code == 200, done.text
        if review:
            done = analyst.command("start_case_review", {"case_id": case_id})
            assert done.status_code == 200, done.text
        return case_id

    def evidence(self, case_id: str, evidence_id: str, approve: bool) -> None:
        payload = {"case_id": case_id, "evidence_id": evidence_id, "title": "t", "text": "x"}
        done = self.as_("tok-analyst-t1").command("submit_evidence", payload)
        assert done.status_code == 200, done.text
        if approve:
            verdict = {"case_id": case_id, "evidence_id": evidence_id, "verdict": "approve"}
            done = self.as_("tok-reviewer-t1").command("review_evidence", verdict)
            assert done.status_code == 200, done.text

    def risk_proposal(self, case_id: str) -> dict[str, Any]:
        payload = {
            "case_id": case_id,
            "proposed_risk_level": "high",
            "rationale": "r",
            "evidence_refs": [],
            "confidence": 0.5,
        }
        done = self.as_("tok-analyst-t1").command("propose_risk_update", payload)
        assert done.status_code == 202, done.text
        result: dict[str, Any] = done.json()
        return result

    def decide(self, case_id: str, proposal: dict[str, Any], token: str) -> httpx.Response:
        digest = proposal["events"][0]["payload"]["digest"]
        return self.as_(token).command(
            "decide_proposal",
            {
                "case_id": case_id,
                "approval_request_id": proposal["approval_request_id"],
                "proposal_digest": digest,
                "decision": "approve",
            },
        )

    def raw_event(self, case_id: str, event_type: str, metadata: dict[str, Any]) -> None:
        data = orjson.dumps({"case_id": case_id, "started_by": "a"})
        self.live.app.store.append(
            CASE.stream("t1", case_id), [NewEvent(event_type, data, orjson.dumps(metadata))], ANY
        )


def _escalation_awaiting(world: World) -> tuple[str, dict[str, Any]]:
    case_id = world.case(review=True)
    world.evidence(case_id, "e1", approve=True)
    payload = {"case_id": case_id, "rationale": "r", "evidence_refs": ["e1"], "confidence": 0.9}
    done = world.as_("tok-analyst-t1").command("propose_case_escalation", payload)
    assert done.status_code == 202, done.text
    return case_id, done.json()


def _unreadable(world: World, event_type: str, version: str) -> httpx.Response:
    case_id = world.case()
    world.raw_event(case_id, event_type, {"tenantId": "t1", "schemaVersion": version})
    return world.as_("tok-analyst-t1").command("start_case_review", {"case_id": case_id})


def _opened_twice(world: World) -> httpx.Response:
    case_id = world.case()
    again = {"case_id": case_id, "allegation_summary": "x"}
    return world.as_("tok-analyst-t1").command("open_case", again)


def _key_reused(world: World) -> httpx.Response:
    analyst, key = world.as_("tok-analyst-t1"), uuid.uuid4().hex
    case_id = f"rt-{key[:12]}"
    first = analyst.command(
        "open_case", {"case_id": case_id, "allegation_summary": "x"}, idempotency_key=key
    )
    assert first.status_code == 200
    return analyst.command(
        "open_case", {"case_id": case_id, "allegation_summary": "y"}, idempotency_key=key
    )


def _not_ready(world: World) -> httpx.Response:
    app = world.live.app
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app, "ready", lambda: (False, "the views lag"))
        return world.as_(None).get("/readyz")


def _projections_stalled(world: World) -> httpx.Response:
    app = world.live.app
    detail = f"{PROJECTIONS_STALLED}SQLite SQLITE_BUSY: database is locked"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app, "ready", lambda: (False, detail))
        return world.as_(None).get("/readyz")


def _open_proposals(world: World) -> httpx.Response:
    case_id = world.case(review=True)
    world.risk_proposal(case_id)
    closing = {"case_id": case_id, "resolution": "done"}
    return world.as_("tok-supervisor-t1").command("close_case", closing)


def _decided_twice(world: World) -> httpx.Response:
    case_id = world.case(review=True)
    proposal = world.risk_proposal(case_id)
    assert world.decide(case_id, proposal, "tok-reviewer-t1").status_code == 200
    return world.decide(case_id, proposal, "tok-reviewer-t1")


def _wrong_digest(world: World) -> httpx.Response:
    case_id = world.case(review=True)
    proposal = world.risk_proposal(case_id)
    proposal["events"][0]["payload"]["digest"] = "0" * 64
    return world.decide(case_id, proposal, "tok-reviewer-t1")


def _reviewer_decides_escalation(world: World) -> httpx.Response:
    case_id, proposal = _escalation_awaiting(world)
    return world.decide(case_id, proposal, "tok-reviewer-t1")


def _dismissed_case_draft(world: World) -> httpx.Response:
    case_id = world.case()
    dismissed = world.as_("tok-supervisor-t1").command(
        "dismiss_case", {"case_id": case_id, "reason": "no case"}
    )
    assert dismissed.status_code == 200, dismissed.text
    draft = {
        "draft_id": f"d-{case_id}",
        "case_id": case_id,
        "recipient": "a@b.example",
        "subject": "s",
        "body": "b",
    }
    return world.as_("tok-analyst-t1").command("create_notice_draft", draft)


def _escalation(evidence: list[str], approve: bool) -> Scenario:
    def scenario(world: World) -> httpx.Response:
        case_id = world.case(review=True)
        world.evidence(case_id, "e1", approve=approve)
        payload = {"case_id": case_id, "rationale": "r", "evidence_refs": evidence, "confidence": 1}
        return world.as_("tok-analyst-t1").command("propose_case_escalation", payload)

    return scenario


def _evidence_twice(world: World) -> httpx.Response:
    case_id = world.case(review=True)
    world.evidence(case_id, "e1", approve=False)
    payload = {"case_id": case_id, "evidence_id": "e1", "title": "t", "text": "x"}
    return world.as_("tok-analyst-t1").command("submit_evidence", payload)


A, S = "tok-analyst-t1", "tok-supervisor-t1"
SCENARIOS: dict[tuple[str, str], Scenario] = {
    ("unauthenticated", "rejected"): lambda w: w.as_(None).command("open_case", {}),
    ("payload_too_large", "rejected"): lambda w: w.as_(A).command("open_case", {"x": "y" * 2**21}),
    ("invalid_payload", "validation_error"): lambda w: w.as_(A).command("open_case", {}),
    ("unknown_command", "validation_error"): lambda w: w.as_(A).command("no_such_command", {}),
    ("unsupported_schema", "validation_error"): lambda w: w.as_(A).command(
        "open_case", {"case_id": "c", "allegation_summary": "x"}, payload_schema="open_case.v9"
    ),
    ("tenant_mismatch", "rejected"): lambda w: w.as_(A).command(
        "open_case", {"case_id": "c", "allegation_summary": "x"}, tenant_id="t2"
    ),
    ("not_permitted", "rejected"): lambda w: w.as_("tok-agent-t1").command(
        "close_case", {"case_id": w.case(), "resolution": "x"}
    ),
    ("missing_run_id", "rejected"): lambda w: w.stubbed("missing_run_id"),
    ("rate_limited", "rejected"): lambda w: w.stubbed("rate_limited"),
    ("run_budget_exhausted", "rejected"): lambda w: w.stubbed("run_budget_exhausted"),
    ("policy_forbids_agent", "rejected"): lambda w: w.stubbed("policy_forbids_agent"),
    ("invalid_transition", "rejected"): lambda w: w.as_(S).command(
        "close_case", {"case_id": w.case(), "resolution": "x"}
    ),
    ("case_not_active", "rejected"): _dismissed_case_draft,
    ("open_proposals", "rejected"): _open_proposals,
    ("duplicate_id", "rejected"): _evidence_twice,
    ("unknown_reference", "rejected"): lambda w: w.as_("tok-reviewer-t1").command(
        "review_evidence",
        {"case_id": w.case(review=True), "evidence_id": "e9", "verdict": "approve"},
    ),
    ("approval_request_not_open", "rejected"): _decided_twice,
    ("digest_mismatch", "rejected"): _wrong_digest,
    ("approver_role_required", "rejected"): _reviewer_decides_escalation,
    ("four_eyes", "rejected"): lambda w: w.stubbed("four_eyes"),
    ("confidence_too_low", "rejected"): lambda w: w.stubbed("confidence_too_low"),
    ("policy_version_exists", "rejected"): lambda w: w.stubbed("policy_version_exists"),
    ("evidence_required", "rejected"): _escalation([], approve=True),
    ("evidence_not_approved", "rejected"): _escalation(["e1"], approve=False),
    ("not_found", "rejected"): lambda w: w.as_(A).command(
        "start_case_review", {"case_id": "rt-nobody-has-it"}
    ),
    ("already_exists", "rejected"): _opened_twice,
    ("idempotency_key_reused", "rejected"): _key_reused,
    ("unreadable_event", "rejected"): lambda w: _unreadable(w, "case.review_started", "x"),
    ("unknown_event_type", "rejected"): lambda w: _unreadable(w, "case.teleported", "1"),
    ("unknown_event_version", "rejected"): lambda w: _unreadable(w, "case.review_started", "9"),
    ("stale_version", "conflict"): lambda w: w.as_(A).command(
        "start_case_review", {"case_id": w.case()}, expected_aggregate_version=7
    ),
    ("concurrent_write", "conflict"): lambda w: w.stubbed("concurrent_write"),
    ("forbidden", "forbidden"): lambda w: w.as_("tok-agent-t1").get(f"/v1/audit/cases/{w.case()}"),
    ("not_found", "not_found"): lambda w: w.as_(S).get("/v1/audit/cases/rt-nobody-has-it"),
    ("validation_error", "validation_error"): lambda w: w.as_(A).query("no_such_query", {}),
    ("unavailable", "unavailable"): lambda w: w.stubbed_query("unavailable"),
    ("event_store_unavailable", "unavailable"): lambda w: w.stubbed("event_store_unavailable"),
    ("not_ready", "unavailable"): _not_ready,
    ("projections_stalled", "unavailable"): _projections_stalled,
    ("no_such_route", "rejected"): lambda w: w.as_(A).get("/v1/no-such-route-here"),
    ("method_not_allowed", "rejected"): lambda w: w.as_(A).get("/v1/commands"),
    ("internal_error", "error"): lambda w: w.stubbed("internal_error"),
}


class StubCommands:
    """Answers a command as its payload's `answer` asks: a refusal with that reason code, or
    the failure named."""

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        answer = envelope.payload["answer"]
        if answer == "event_store_unavailable":
            raise EventStoreUnavailable("stopped")
        if answer == "internal_error":
            raise RuntimeError("a bug")
        [row] = [r for r in REASONS if r.code == answer]
        return CommandResult(
            command_id=envelope.command_id,
            status=CommandOutcome(row.outcome),
            reason=f"stubbed {answer}",
            reason_code=ReasonCode(answer),
        )


class StubQueries:
    def handle(self, query: QueryEnvelope) -> QueryResult:
        return QueryResult(query_id=query.query_id, status=query.payload["answer"])


@pytest.fixture(scope="module")
def world(live: Live) -> Iterator[World]:
    stub = HttpServer.start(create_app(live.app, commands=StubCommands(), queries=StubQueries()))
    here = World(live, stub.url)
    yield here
    for client in here.clients:
        client.close()
    stub.stop()


def test_every_row_has_a_scenario() -> None:
    assert set(SCENARIOS) == {(r.code, r.outcome) for r in REASONS}


@pytest.mark.parametrize("reason", REASONS, ids=lambda r: f"{r.code}-{r.outcome}")
def test_each_reason_is_answered_with_its_row(world: World, reason: Reason) -> None:
    answer = SCENARIOS[(reason.code, reason.outcome)](world)

    assert answer.status_code == reason.status, answer.text[:500]
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["outcome"] == reason.outcome
    if reason.code in ("unknown_event_type", "unknown_event_version"):
        assert problem["reason_code"] == "unreadable_event"
        assert f"({reason.code})" in problem["detail"]
    else:
        assert problem["reason_code"] == reason.code
    if reason.status == 405:
        assert answer.headers["allow"] == "POST"


@pytest.mark.parametrize("document", ["README.md", "docs/catalogue.md"])
def test_the_docs_hold_the_table_word_for_word(document: str) -> None:
    assert TABLE in (ROOT / document).read_text()


def test_the_openapi_document_lists_every_status_each_operation_can_answer(live: Live) -> None:
    document = httpx.get(f"{live.url}/openapi.json").json()
    documented = {
        (method.upper(), path): {int(status) for status in operation["responses"]}
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }

    assert documented[("POST", "/v1/commands")] >= {200, 202, 401, 403, 404, 409, 413, 422, 503}
    assert documented[("POST", "/v1/queries")] >= {200, 401, 403, 404, 413, 422, 503}
    for path in ("/v1/audit/cases/{case_id}", "/v1/audit/correlations/{correlation_id}"):
        assert documented[("GET", path)] >= {200, 401, 403, 404, 413, 503}
    assert documented[("POST", "/v1/audit/what-if")] >= {200, 401, 403, 413, 422, 503}
    assert 503 in documented[("GET", "/readyz")]
