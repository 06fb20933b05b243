"""The query service (seed §8, §27): authorized, tenant-isolated, bounded, side-effect free,
source-referenced, with freshness and bounded read-your-writes."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.domain.shared.actors import ActorType, Role
from caseledger.domain.shared.envelopes import QueryEnvelope
from caseledger.projections.catalogue import all_projections
from caseledger.projections.queries.freshness import PollingWaiter
from caseledger.projections.queries.service import QueryService, QueryStatus
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.runner import ProjectionRunner
from tests.support.facts import (
    FakeLog,
    approval_requested,
    drafted,
    evidence_reviewed,
    evidence_submitted,
    opened,
    review_started,
    risk_proposed,
)
from tests.support.runners import FAST, caught_up_runner, dump

AGENT = {"requested_by_actor_type": ActorType.AGENT, "requested_by_actor_id": "bot", "run_id": "r1"}
REVIEWER = {
    "requested_by_actor_type": ActorType.USER,
    "requested_by_actor_id": "rev",
    "requested_by_roles": frozenset({Role.REVIEWER}),
}


def ask(query_type: str, payload: dict[str, Any], tenant: str = "t1", **who: Any) -> QueryEnvelope:
    return QueryEnvelope(
        query_id="q1",
        query_type=query_type,
        tenant_id=tenant,
        correlation_id="corr-1",
        payload_schema=f"{query_type}.v1",
        payload=payload,
        **(who or AGENT),
    )


@pytest.fixture
def service(log: FakeLog, sqlite_store: SqliteProjectionStore) -> QueryService:
    log.append(
        opened("c1"),
        review_started("c1"),
        evidence_submitted("c1", "e1", "offshore wire transfer to a shell company"),
        evidence_reviewed("c1", "e1", approve=True),
        evidence_submitted("c1", "e2", "offshore rumour"),
        risk_proposed("c1", "p1"),
        drafted("n1", "c1"),
        approval_requested("n1", "c1"),
        opened("c9", tenant="t2"),
    )
    caught_up_runner(log, sqlite_store)
    return QueryService(sqlite_store, head=log)


def test_query_repeated_twice_no_mutation(
    service: QueryService, log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    before_views, before_log = dump(sqlite_store), list(log.events)

    first = service.handle(ask("get_case_agent_context", {"case_id": "c1"}))
    second = service.handle(ask("get_case_agent_context", {"case_id": "c1"}))

    assert first == second
    assert (dump(sqlite_store), log.events) == (before_views, before_log)


def test_case_summary_is_source_referenced_with_freshness(
    service: QueryService, log: FakeLog
) -> None:
    result = service.handle(ask("get_case_summary", {"case_id": "c1"}))

    assert result.status == QueryStatus.OK
    assert result.data is not None
    summary = result.data["case_summary"]
    assert (summary["status"], summary["evidence_count"], summary["open_proposals"]) == (
        "under_review",
        2,
        1,
    )
    assert result.source_refs[0].startswith("case-t1_c1@0#")
    freshness = result.data["freshness"]
    assert freshness["as_of_position"] == log.head_position()
    assert (freshness["head_position"], freshness["lag"]) == (log.head_position(), 0)


def test_another_tenants_case_is_not_found(service: QueryService) -> None:
    result = service.handle(ask("get_case_summary", {"case_id": "c9"}))

    assert result.status == QueryStatus.NOT_FOUND
    assert result.source_refs == []


def test_agent_context_computes_allowed_actions_for_the_caller(service: QueryService) -> None:
    as_agent = service.handle(ask("get_case_agent_context", {"case_id": "c1"}))
    as_reviewer = service.handle(ask("get_case_agent_context", {"case_id": "c1"}, **REVIEWER))

    assert as_agent.data is not None
    assert as_reviewer.data is not None
    agent_view = as_agent.data["case_agent_context"]
    assert "propose_case_escalation" in agent_view["allowed_actions"]
    assert "decide_proposal" not in agent_view["allowed_actions"]
    assert "decide_proposal" in as_reviewer.data["case_agent_context"]["allowed_actions"]
    assert agent_view["key_evidence_refs"] == ["e1"]
    assert any("e2" in note for note in agent_view["missing_evidence"])
    assert agent_view["policy_version"] == "default"


def test_evidence_search_returns_approved_evidence_of_the_tenant_with_refs(
    service: QueryService,
) -> None:
    result = service.handle(ask("search_evidence", {"text": "offshore", "limit": 3}))

    assert result.data is not None
    hits = result.data["evidence"]
    assert [(h["case_id"], h["evidence_id"]) for h in hits] == [("c1", "e1")]
    assert hits[0]["refs"]
    assert set(hits[0]["refs"]) <= set(result.source_refs)
    other = service.handle(ask("search_evidence", {"text": "offshore"}, tenant="t2"))
    assert other.data is not None
    assert other.data["evidence"] == []


def test_the_pending_approvals_queue_is_for_deciders_only(service: QueryService) -> None:
    denied = service.handle(ask("list_pending_approvals", {}))
    allowed = service.handle(ask("list_pending_approvals", {}, **REVIEWER))

    assert denied.status == QueryStatus.FORBIDDEN
    assert allowed.data is not None
    assert {i["kind"] for i in allowed.data["pending_approvals"]} == {"risk_update", "notice"}


def test_notice_drafts_are_listed_per_case(service: QueryService) -> None:
    result = service.handle(ask("list_notice_drafts", {"case_id": "c1"}))

    assert result.data is not None
    assert [(d["draft_id"], d["status"]) for d in result.data["notice_drafts"]] == [
        ("n1", "approval_requested")
    ]


def test_dashboard_filters_and_pages(service: QueryService) -> None:
    result = service.handle(ask("list_cases", {"status": "under_review", "limit": 1}))

    assert result.data is not None
    assert [i["case_id"] for i in result.data["case_dashboard"]["items"]] == ["c1"]
    assert result.data["case_dashboard"]["next_offset"] is None


def test_an_agent_without_a_run_id_is_refused(service: QueryService) -> None:
    who = {**AGENT, "run_id": None}
    assert service.handle(ask("get_case_summary", {"case_id": "c1"}, **who)).status == "forbidden"


def test_an_unbounded_request_is_a_validation_error(service: QueryService) -> None:
    result = service.handle(ask("list_cases", {"limit": 10_000}))

    assert result.status == QueryStatus.VALIDATION_ERROR


def test_read_your_writes_waits_for_a_reached_position(service: QueryService, log: FakeLog) -> None:
    result = service.handle(
        ask("get_case_summary", {"case_id": "c1", "min_position": log.head_position()})
    )

    assert result.status == QueryStatus.OK
    assert result.data is not None
    assert result.data["freshness"]["reached"] is True


def test_past_the_wait_bound_the_answer_is_explicitly_stale(
    service: QueryService, log: FakeLog
) -> None:
    unreached = log.append(review_started("c2"))  # committed; the stopped runner never sees it
    payload = {"case_id": "c1", "min_position": unreached, "max_wait_ms": 30}

    result = service.handle(ask("get_case_summary", payload))

    assert result.status == QueryStatus.STALE
    assert result.data is not None
    assert result.data["freshness"]["reached"] is False
    assert "had not reached position" in (result.error_message or "")


def test_a_waiter_woken_by_the_runner_returns_at_its_commit_not_at_its_next_poll(
    log: FakeLog, sqlite_store: SqliteProjectionStore
) -> None:
    log.append(opened("c1"))
    runner = ProjectionRunner(log, sqlite_store, all_projections(), FAST)
    activate_unserved(sqlite_store, all_projections())
    runner.start()
    hour = 3600.0  # without the runner's wake-up, the next look is an hour away
    waiter = PollingWaiter(sqlite_store, interval=hour, sleep=runner.wait_for_progress)
    reached: list[bool] = []
    try:
        assert runner.wait_until(log.head_position(), timeout=60)
        coming = log.head_position() + 100  # the next event's position (FakeLog: +100 each)
        waiting = threading.Thread(
            target=lambda: reached.append(waiter.wait_until("case_summary", coming, hour)),
            daemon=True,
        )
        waiting.start()
        time.sleep(0.2)  # the waiter is asleep (if not yet, it finds the commit at once)
        assert log.append(review_started("c1")) == coming
        waiting.join(60)
    finally:
        runner.stop()

    assert reached == [True]
