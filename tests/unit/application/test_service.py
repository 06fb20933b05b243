"""The application service beyond the §27 table: metadata, audit log, idempotency edges,
budgets, tenants, policy versions, retries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import orjson

from caseledger.domain.application.ports import AppendResult, NewEvent, StreamWrite
from caseledger.domain.application.proposals import command_for
from caseledger.domain.application.replay import replay
from caseledger.domain.application.service import CommandService
from caseledger.domain.case.state import CaseStatus
from caseledger.domain.shared.envelopes import CommandProposal
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, ANALYST, REVIEWER, SUPERVISOR
from tests.support.builders import TENANT
from tests.support.clocks import FixedClock
from tests.support.commands import envelope, issue
from tests.support.desk import accepted, case_under_review
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service

OPEN = {"case_id": "c1", "allegation_summary": "Unlicensed lending"}
ESCALATE = {"case_id": "c1", "rationale": "Pattern", "evidence_refs": ["e1"], "confidence": 0.7}


def test_stored_metadata_follows_kurrentdb_conventions(
    service: CommandService, store: InMemoryEventStore
) -> None:
    result = issue(service, "open_case", OPEN, ANALYST, command_id="cmd-open")
    recorded = store.read_stream("case-t1_c1")[0]
    meta = orjson.loads(recorded.metadata)
    assert meta["$correlationId"] == "corr-1"
    assert meta["$causationId"] == "cmd-open"
    assert (meta["tenantId"], meta["actorType"], meta["actorId"]) == ("t1", "user", "alice")
    assert (meta["commandId"], meta["idempotencyKey"]) == ("cmd-open", "cmd-open")
    assert (meta["policyVersion"], meta["schemaVersion"], meta["payloadSchema"]) == (
        "default",
        "1",
        "case.opened.v1",
    )
    assert recorded.type == "case.opened"
    assert orjson.loads(recorded.data)["allegation_summary"] == "Unlicensed lending"
    assert result.commit_position == recorded.commit_position
    assert result.events[0].event_id == str(recorded.id)


def test_every_answer_but_acceptance_is_recorded_in_the_commandlog(
    service: CommandService, store: InMemoryEventStore
) -> None:
    issue(service, "open_case", {"case_id": "c1"}, ANALYST, command_id="bad-1")
    issue(service, "close_case", {"case_id": "c1", "resolution": "x"}, AGENT, command_id="bad-2")
    accepted(issue(service, "open_case", OPEN, ANALYST))
    log = [orjson.loads(r.data) for r in store.read_stream("commandlog-t1")]
    assert [(r["command_id"], r["outcome"], r["reason_code"]) for r in log] == [
        ("bad-1", "validation_error", "invalid_payload"),
        ("bad-2", "rejected", "not_permitted"),
    ]
    assert log[1]["actor_id"] == "risk-bot"
    assert log[1]["run_id"] == "run-1"


def test_a_reused_idempotency_key_with_another_payload_is_refused(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    first = issue(service, "propose_case_escalation", ESCALATE, AGENT, key="k")
    other = {**ESCALATE, "rationale": "Something else"}
    reused = issue(service, "propose_case_escalation", other, AGENT, key="k")
    assert first.status is CommandOutcome.REQUIRES_APPROVAL
    assert reused.reason_code is ReasonCode.IDEMPOTENCY_KEY_REUSED


def test_idempotency_keys_are_scoped_to_the_actor(service: CommandService) -> None:
    accepted(issue(service, "open_case", OPEN, ANALYST, key="k"))
    review = issue(service, "start_case_review", {"case_id": "c1"}, REVIEWER, key="k")
    assert review.status is CommandOutcome.ACCEPTED


def test_a_retry_survives_a_restart_of_the_service(store: InMemoryEventStore) -> None:
    command = envelope("open_case", OPEN, ANALYST, key="k")
    first = command_service(store).handle(command)
    again = command_service(store).handle(command)
    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert [(e.event_id, e.payload) for e in again.events] == [
        (e.event_id, e.payload) for e in first.events
    ]
    assert len(store.read_stream("case-t1_c1")) == 1


def test_a_retry_with_the_original_stale_version_is_still_a_duplicate(
    service: CommandService,
) -> None:
    case_under_review(service)
    command = envelope("propose_case_escalation", ESCALATE, AGENT, key="k", expected=3)
    assert service.handle(command).status is CommandOutcome.REQUIRES_APPROVAL
    assert service.handle(command).status is CommandOutcome.DUPLICATE_ACCEPTED


def test_an_agent_over_its_rate_is_rejected_and_users_are_not_budgeted(
    store: InMemoryEventStore, clock: FixedClock
) -> None:
    service = command_service(store, clock=clock)
    case_under_review(service)
    rules = {"agent_commands_per_minute": 2}
    accepted(issue(service, "publish_policy", {"policy_version": "v2", "rules": rules}, SUPERVISOR))
    brief = {"case_id": "c1", "title": "B", "body": "b"}
    for n in (1, 2):
        accepted(issue(service, "create_analyst_brief", {**brief, "brief_id": f"b{n}"}, AGENT))
    limited = issue(service, "create_analyst_brief", {**brief, "brief_id": "b3"}, AGENT)
    assert limited.reason_code is ReasonCode.RATE_LIMITED
    accepted(issue(service, "create_analyst_brief", {**brief, "brief_id": "b4"}, ANALYST))
    clock.advance(timedelta(minutes=1))
    accepted(issue(service, "create_analyst_brief", {**brief, "brief_id": "b5"}, AGENT))


def test_a_run_has_a_total_budget(store: InMemoryEventStore, clock: FixedClock) -> None:
    service = command_service(store, clock=clock)
    case_under_review(service)
    rules = {"run_command_budget": 1}
    accepted(issue(service, "publish_policy", {"policy_version": "v2", "rules": rules}, SUPERVISOR))
    brief = {"case_id": "c1", "title": "B", "body": "b"}
    accepted(issue(service, "create_analyst_brief", {**brief, "brief_id": "b1"}, AGENT))
    spent = issue(service, "create_analyst_brief", {**brief, "brief_id": "b2"}, AGENT)
    assert spent.reason_code is ReasonCode.RUN_BUDGET_EXHAUSTED


def test_another_tenants_case_is_out_of_reach(service: CommandService) -> None:
    """Answered exactly as an unknown case: nothing says the case exists (tests/integration/
    write_side/test_tenant_isolation.py compares every answer field by field)."""
    accepted(issue(service, "open_case", OPEN, ANALYST))
    foreign = issue(service, "start_case_review", {"case_id": "c1"}, ANALYST, tenant="t2")
    assert foreign.reason_code is ReasonCode.NOT_FOUND
    draft = {"draft_id": "n1", "case_id": "c1", "recipient": "r", "subject": "s", "body": "b"}
    assert issue(service, "create_notice_draft", draft, ANALYST, tenant="t2").reason_code is (
        ReasonCode.NOT_FOUND
    )


def test_a_published_policy_applies_to_the_next_command(service: CommandService) -> None:
    case_under_review(service)
    rules = {"agent_commands": ["create_analyst_brief"]}
    accepted(issue(service, "publish_policy", {"policy_version": "v2", "rules": rules}, SUPERVISOR))
    refused = issue(service, "propose_case_escalation", ESCALATE, AGENT)
    assert refused.reason_code is ReasonCode.POLICY_FORBIDS_AGENT


def test_a_policy_change_between_proposal_and_decision_asks_again(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    proposal = issue(service, "propose_case_escalation", ESCALATE, AGENT)
    accepted(issue(service, "publish_policy", {"policy_version": "v2", "rules": {}}, SUPERVISOR))
    decision = {
        "case_id": "c1",
        "approval_request_id": proposal.approval_request_id,
        "proposal_digest": proposal.events[0].payload["digest"],
        "decision": "approve",
    }
    renewed = issue(service, "decide_proposal", decision, SUPERVISOR)
    assert renewed.status is CommandOutcome.REQUIRES_APPROVAL
    assert renewed.approval_request_id not in (None, proposal.approval_request_id)
    assert replay(store, "case", TENANT, "c1").state.status is CaseStatus.UNDER_REVIEW
    again = {**decision, "approval_request_id": renewed.approval_request_id}
    escalated = accepted(issue(service, "decide_proposal", again, SUPERVISOR))
    assert escalated.events[0].payload["policy_version"] == "v2"


def test_publishing_a_policy_that_lets_agents_approve_is_a_validation_error(
    service: CommandService,
) -> None:
    rules = {"agent_commands": ["approve_notice_draft"]}
    result = issue(service, "publish_policy", {"policy_version": "v9", "rules": rules}, SUPERVISOR)
    assert result.reason_code is ReasonCode.INVALID_PAYLOAD


class OneLostRace(InMemoryEventStore):
    """A store where another writer slips in an event just before the first append."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def append(self, stream: str, events: Sequence[NewEvent], expected: int) -> AppendResult:
        self._race(stream, expected)
        return super().append(stream, events, expected)

    def append_checked(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected: int,
        checks: Mapping[str, int],
        also: Sequence[StreamWrite] = (),
    ) -> AppendResult:
        """The other writer commits before this whole commit (which is atomic), not inside it."""
        self._race(stream, expected)
        return super().append_checked(stream, events, expected, checks, also)

    def _race(self, stream: str, expected: int) -> None:
        if stream == "case-t1_c1" and expected == 0 and not self.raced:
            self.raced = True
            super().append(stream, [_foreign_brief()], expected)


def _foreign_brief() -> NewEvent:
    payload: dict[str, object] = {
        "case_id": "c1",
        "brief_id": "b-other",
        "title": "t",
        "body": "b",
        "evidence_refs": [],
        "author_type": "user",
        "author_id": "andy",
        "run_id": None,
    }
    return NewEvent("case.analyst_brief_created", orjson.dumps(payload), b"{}")


def test_without_an_expected_version_a_lost_race_is_redecided() -> None:
    store = OneLostRace()
    service = command_service(store)
    accepted(issue(service, "open_case", OPEN, ANALYST))
    result = issue(service, "start_case_review", {"case_id": "c1"}, ANALYST)
    assert result.status is CommandOutcome.ACCEPTED
    assert [r.type for r in store.read_stream("case-t1_c1")] == [
        "case.opened",
        "case.analyst_brief_created",
        "case.review_started",
    ]


def test_with_an_expected_version_a_lost_race_is_a_conflict() -> None:
    store = OneLostRace()
    service = command_service(store)
    accepted(issue(service, "open_case", OPEN, ANALYST))
    result = issue(service, "start_case_review", {"case_id": "c1"}, ANALYST, expected=0)
    assert result.status is CommandOutcome.CONFLICT
    assert len(store.read_stream("case-t1_c1")) == 2


def test_an_agent_proposal_becomes_a_proposing_command() -> None:
    proposal = CommandProposal(
        proposal_id="p-7",
        run_id="run-9",
        agent_name="risk-bot",
        proposed_command_type="propose_case_escalation",
        payload={"case_id": "c1"},
        rationale="Pattern",
        evidence_refs=["e1"],
        confidence=0.6,
    )
    command = command_for(proposal, "t1", "corr-9")
    assert (command.requested_by_actor_id, command.run_id, command.idempotency_key) == (
        "risk-bot",
        "run-9",
        "p-7",
    )
    assert command.payload == {
        "case_id": "c1",
        "rationale": "Pattern",
        "evidence_refs": ["e1"],
        "confidence": 0.6,
    }


def test_a_service_sees_what_another_service_wrote_since_it_last_loaded(
    store: InMemoryEventStore,
) -> None:
    first, second = command_service(store), command_service(store)
    accepted(issue(first, "open_case", OPEN, ANALYST))
    accepted(issue(second, "start_case_review", {"case_id": "c1"}, ANALYST, expected=0))
    stale = issue(first, "start_case_review", {"case_id": "c1"}, ANALYST, key="again")
    assert stale.reason_code is ReasonCode.INVALID_TRANSITION
    closed = issue(
        first, "close_case", {"case_id": "c1", "resolution": "r"}, SUPERVISOR, expected=1
    )
    assert closed.status is CommandOutcome.ACCEPTED
