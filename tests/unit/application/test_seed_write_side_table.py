"""Every write-side row of the seed's §27 table, through the application service."""

from __future__ import annotations

import orjson
import pytest

from caseledger.domain.application.ports import NewEvent
from caseledger.domain.application.replay import replay, replay_document
from caseledger.domain.application.service import CommandService
from caseledger.domain.case.state import CaseStatus, EvidenceStatus, RiskLevel
from caseledger.domain.shared.errors import UnreadableEvent
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, REVIEWER, SUPERVISOR
from tests.support.builders import TENANT
from tests.support.commands import envelope, issue
from tests.support.desk import case_under_review
from tests.support.memory_store import InMemoryEventStore

RISK_PROPOSAL = {
    "case_id": "c1",
    "proposed_risk_level": "high",
    "rationale": "Interest far above the legal cap",
    "evidence_refs": ["e1"],
    "confidence": 0.8,
}


def test_command_without_permission_is_rejected(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    before = store.read_stream("case-t1_c1")
    result = issue(service, "close_case", {"case_id": "c1", "resolution": "done"}, AGENT)
    assert result.status is CommandOutcome.REJECTED
    assert result.reason_code is ReasonCode.NOT_PERMITTED
    assert store.read_stream("case-t1_c1") == before


def test_command_with_stale_aggregate_version_conflicts(
    service: CommandService, store: InMemoryEventStore
) -> None:
    head = case_under_review(service).stream_revision
    assert head is not None
    stale = issue(service, "propose_risk_update", RISK_PROPOSAL, AGENT, expected=head - 1)
    assert stale.status is CommandOutcome.CONFLICT
    assert stale.reason_code is ReasonCode.STALE_VERSION
    assert len(store.read_stream("case-t1_c1")) == head + 1


def test_command_duplicate_idempotency_key_returns_the_same_result(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    first = service.handle(envelope("propose_risk_update", RISK_PROPOSAL, AGENT, key="k-1"))
    again = service.handle(envelope("propose_risk_update", RISK_PROPOSAL, AGENT, key="k-1"))
    assert first.status is CommandOutcome.REQUIRES_APPROVAL
    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert again.original_outcome is CommandOutcome.REQUIRES_APPROVAL
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    assert (again.commit_position, again.approval_request_id) == (
        first.commit_position,
        first.approval_request_id,
    )
    proposals = [r for r in store.read_stream("case-t1_c1") if r.type.endswith("_proposed")]
    assert len(proposals) == 1


def test_proposed_escalation_without_evidence_is_rejected(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    payload = {"case_id": "c1", "rationale": "Pattern", "evidence_refs": [], "confidence": 0.9}
    result = issue(service, "propose_case_escalation", payload, AGENT)
    assert result.status is CommandOutcome.REJECTED
    assert result.reason_code is ReasonCode.EVIDENCE_REQUIRED
    assert not any(r.type == "case.escalation_proposed" for r in store.read_stream("case-t1_c1"))


def test_human_approval_missing_command_requires_approval(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    proposal = issue(service, "propose_risk_update", RISK_PROPOSAL, AGENT)
    assert proposal.status is CommandOutcome.REQUIRES_APPROVAL
    assert proposal.approval_request_id is not None
    assert replay(store, "case", TENANT, "c1").state.risk_level is None
    decision = {
        "case_id": "c1",
        "approval_request_id": proposal.approval_request_id,
        "proposal_digest": proposal.events[0].payload["digest"],
        "decision": "approve",
    }
    approved = issue(service, "decide_proposal", decision, REVIEWER)
    assert approved.status is CommandOutcome.ACCEPTED
    assert approved.events[0].event_type == "case.risk_level_changed"
    assert replay(store, "case", TENANT, "c1").state.risk_level is RiskLevel.HIGH


def test_event_replay_reconstructs_expected_state(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service, approved_evidence=("e1", "e2"))
    full = replay(store, "case", TENANT, "c1")
    assert full.state.status is CaseStatus.UNDER_REVIEW
    assert full.state.evidence == {"e1": EvidenceStatus.APPROVED, "e2": EvidenceStatus.APPROVED}
    assert [e.stream_revision for e in full.history] == list(range(6))
    assert full.history[0].actor_id == "alice"
    assert full.history[0].correlation_id == "corr-1"
    at_open = replay(store, "case", TENANT, "c1", as_of_revision=0)
    assert (at_open.state.status, at_open.revision) == (CaseStatus.OPENED, 0)
    writes = store.appends
    replay(store, "case", TENANT, "c1")
    assert store.appends == writes


def test_unknown_event_version_is_rejected(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    future = {"schemaVersion": 9, "tenantId": "t1"}
    store.append(
        "case-t1_c1",
        [NewEvent("case.review_started", orjson.dumps({"case_id": "c1"}), orjson.dumps(future))],
        len(store.read_stream("case-t1_c1")) - 1,
    )
    with pytest.raises(UnreadableEvent, match="case-t1_c1@4") as unreadable:
        replay(store, "case", TENANT, "c1")
    assert unreadable.value.cause is ReasonCode.UNKNOWN_EVENT_VERSION
    refused = issue(service, "close_case", {"case_id": "c1", "resolution": "x"}, SUPERVISOR)
    assert refused.status is CommandOutcome.REJECTED
    assert refused.reason_code is ReasonCode.UNREADABLE_EVENT
    assert refused.reason is not None
    assert "case-t1_c1@4" in refused.reason


def test_a_replay_renders_as_json_for_auditors(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service)
    document = replay_document(replay(store, "case", TENANT, "c1", as_of_revision=1))
    decoded = orjson.loads(orjson.dumps(document))
    assert decoded["state"]["status"] == "under_review"
    assert decoded["state"]["briefs"] == []
    assert [e["event_type"] for e in decoded["history"]] == ["case.opened", "case.review_started"]
    assert decoded["history"][1]["stream_revision"] == 1
