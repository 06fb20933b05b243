"""Tenants share nothing: streams are the tenant's (`case-<tenant>_<id>`), so a command on an id
another tenant holds is answered exactly as one on an id nobody holds -- same outcome, reason
code, reason text, stream and audit record -- and the same id in two tenants is two independent
aggregates, on both stores."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.replay import replay
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, ANALYST, REVIEWER, SUPERVISOR, SYSTEM
from tests.support.clocks import FixedClock
from tests.support.commands import envelope
from tests.support.desk import accepted, case_under_review
from tests.support.services import command_service
from tests.support.stores import StoreFactory

NOTICE = {"recipient": "lender@example.com", "subject": "Cease", "body": "Stop."}
PROPOSAL = {"rationale": "Pattern", "evidence_refs": ["e1"], "confidence": 0.7}

CASE_COMMANDS: list[tuple[str, dict[str, Any], Actor]] = [
    ("start_case_review", {}, ANALYST),
    ("submit_evidence", {"evidence_id": "e9", "title": "T", "text": "x"}, ANALYST),
    ("review_evidence", {"evidence_id": "e1", "verdict": "approve"}, REVIEWER),
    ("propose_risk_update", {**PROPOSAL, "proposed_risk_level": "high"}, AGENT),
    ("propose_case_escalation", PROPOSAL, AGENT),
    (
        "decide_proposal",
        {"approval_request_id": "ar-1", "proposal_digest": "d", "decision": "approve"},
        SUPERVISOR,
    ),
    ("create_analyst_brief", {"brief_id": "b9", "title": "T", "body": "B"}, AGENT),
    ("close_case", {"resolution": "done"}, SUPERVISOR),
    ("dismiss_case", {"reason": "no case"}, SUPERVISOR),
]
DRAFT_COMMANDS: list[tuple[str, dict[str, Any], Actor]] = [
    ("revise_notice_draft", {"subject": "S2", "body": "B2"}, ANALYST),
    ("request_notice_approval", {}, ANALYST),
    ("approve_notice_draft", {"approval_request_id": "ar-1", "digest": "d"}, REVIEWER),
    ("reject_notice_draft", {"approval_request_id": "ar-1", "reason": "no"}, REVIEWER),
    ("withdraw_notice_draft", {"reason": "no"}, SUPERVISOR),
    ("send_approved_notice", {}, SUPERVISOR),
    ("record_notice_sent", {"send_request_id": "s1", "message_id": "<m>"}, SYSTEM),
]


def world_where_t1_holds_c1_and_n1(store: EventStore) -> CommandService:
    service = command_service(store, clock=FixedClock())
    case_under_review(service)
    draft = {"draft_id": "n1", "case_id": "c1", **NOTICE}
    accepted(service.handle(envelope("create_notice_draft", draft, ANALYST, key="draft")))
    return service


class Tenant2:
    """Tenant t2 at a service: its answers, and what the audit log recorded of them."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.service = command_service(store, clock=FixedClock())

    def answers(
        self, command_type: str, payload: dict[str, Any], actor: Actor, **kw: Any
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        command = envelope(command_type, payload, actor, tenant="t2", command_id="probe", **kw)
        result = self.service.handle(command).model_dump()
        return result, [orjson.loads(r.data) for r in self.store.read_stream("commandlog-t2")]


def probes(new_store: StoreFactory) -> tuple[Tenant2, Tenant2]:
    """t2 where t1 holds c1 and n1, and t2 where nobody holds anything."""
    holding = new_store()
    world_where_t1_holds_c1_and_n1(holding)
    return Tenant2(holding), Tenant2(new_store())


@pytest.mark.parametrize(("command_type", "extra", "actor"), CASE_COMMANDS)
def test_a_command_on_another_tenants_case_is_answered_as_for_an_unknown_case(
    new_store: StoreFactory, command_type: str, extra: dict[str, Any], actor: Actor
) -> None:
    holding, empty = probes(new_store)
    payload = {"case_id": "c1", **extra}
    foreign = holding.answers(command_type, payload, actor, key="cmd-1")
    unknown = empty.answers(command_type, payload, actor, key="cmd-1")
    assert foreign == unknown
    assert foreign[0]["reason_code"] == ReasonCode.NOT_FOUND.value


@pytest.mark.parametrize(("command_type", "extra", "actor"), DRAFT_COMMANDS)
def test_a_command_on_another_tenants_notice_is_answered_as_for_an_unknown_notice(
    new_store: StoreFactory, command_type: str, extra: dict[str, Any], actor: Actor
) -> None:
    holding, empty = probes(new_store)
    payload = {"draft_id": "n1", **extra}
    assert holding.answers(command_type, payload, actor) == empty.answers(
        command_type, payload, actor
    )


def test_a_notice_on_another_tenants_case_is_answered_as_on_an_unknown_case(
    new_store: StoreFactory,
) -> None:
    holding, empty = probes(new_store)
    draft = {"draft_id": "n2", "case_id": "c1", **NOTICE}
    foreign = holding.answers("create_notice_draft", draft, AGENT)
    assert foreign == empty.answers("create_notice_draft", draft, AGENT)
    assert foreign[0]["reason_code"] == ReasonCode.NOT_FOUND.value


def test_an_expected_version_reveals_no_revision_of_another_tenants_case(
    new_store: StoreFactory,
) -> None:
    holding, empty = probes(new_store)
    for expected in (3, -1):
        probe = ("start_case_review", {"case_id": "c1"}, ANALYST)
        assert holding.answers(*probe, expected=expected) == empty.answers(
            *probe, expected=expected
        )


def test_another_tenants_idempotency_key_is_no_duplicate_here(store: EventStore) -> None:
    """t1's alice and t2's alice are different people: t2 reusing t1's key and payload gets no
    glimpse of t1's events."""
    holding = world_where_t1_holds_c1_and_n1(store)
    command = envelope("start_case_review", {"case_id": "c1"}, ANALYST, key="draft", tenant="t2")
    result = holding.handle(command)
    assert (result.status, result.reason_code) == (CommandOutcome.REJECTED, ReasonCode.NOT_FOUND)
    assert result.events == []


def test_creating_with_an_id_another_tenant_holds_opens_an_independent_aggregate(
    store: EventStore,
) -> None:
    """Streams are the tenant's (`case-<tenant>_<id>`): t2 opening c1, which t1 holds, opens its
    own c1 -- no `already_exists` to tell t2 what t1 holds, and t1's stream untouched."""
    holding = world_where_t1_holds_c1_and_n1(store)
    before = store.read_stream("case-t1_c1")
    opening = {"case_id": "c1", "allegation_summary": "Other"}
    theirs: CommandResult = holding.handle(envelope("open_case", opening, ANALYST, tenant="t2"))
    assert (theirs.status, theirs.stream_id, theirs.stream_revision) == (
        CommandOutcome.ACCEPTED,
        "case-t2_c1",
        0,
    )
    draft = {"draft_id": "n1", "case_id": "c1", **NOTICE}
    notice = holding.handle(envelope("create_notice_draft", draft, ANALYST, tenant="t2"))
    assert (notice.status, notice.stream_id) == (CommandOutcome.ACCEPTED, "noticedraft-t2_n1")
    assert store.read_stream("case-t1_c1") == before
    assert [r.type for r in store.read_stream("case-t2_c1")] == ["case.opened"]


def test_already_exists_is_a_refusal_within_one_tenant_only(store: EventStore) -> None:
    holding = world_where_t1_holds_c1_and_n1(store)
    opening = {"case_id": "c1", "allegation_summary": "Again"}
    again = holding.handle(envelope("open_case", opening, ANALYST))
    assert (again.status, again.reason_code) == (CommandOutcome.REJECTED, ReasonCode.ALREADY_EXISTS)
    elsewhere = holding.handle(envelope("open_case", opening, ANALYST, tenant="t2"))
    assert elsewhere.status is CommandOutcome.ACCEPTED
    assert holding.handle(envelope("open_case", opening, ANALYST, tenant="t2")).reason_code is (
        ReasonCode.ALREADY_EXISTS
    )


def test_the_same_ids_in_two_tenants_are_two_aggregates_each_deciding_on_its_own(
    store: EventStore,
) -> None:
    """Both tenants hold c1 and n1; what one does to its own never moves the other's."""
    service = world_where_t1_holds_c1_and_n1(store)
    case_under_review(service, tenant="t2")
    draft = {"draft_id": "n1", "case_id": "c1", **NOTICE}
    accepted(service.handle(envelope("create_notice_draft", draft, ANALYST, key="d", tenant="t2")))
    closing = {"case_id": "c1", "resolution": "done"}
    accepted(service.handle(envelope("close_case", closing, SUPERVISOR, tenant="t2")))
    t1_case = replay(store, "case", "t1", "c1").state
    t2_case = replay(store, "case", "t2", "c1").state
    assert (t1_case.tenant_id, t1_case.status.value) == ("t1", "under_review")
    assert (t2_case.tenant_id, t2_case.status.value) == ("t2", "closed")
    assert replay(store, "notice_draft", "t2", "n1").state.tenant_id == "t2"
    review = {"case_id": "c1", "evidence_id": "e1", "verdict": "approve"}
    t1_review = service.handle(envelope("review_evidence", review, REVIEWER, key="r"))
    assert t1_review.status is CommandOutcome.REJECTED  # e1 was approved already in t1's c1
