"""Agents propose, a human (or a policy rule) commits: proposals, decisions, policy changes."""

from __future__ import annotations

from caseledger.domain.case.commands import (
    CloseCase,
    DecideProposal,
    ProposeCaseEscalation,
    ProposeRiskUpdate,
)
from caseledger.domain.case.events import (
    CaseEscalated,
    EscalationProposed,
    ProposalDeclined,
    ProposalReevaluated,
    RiskLevelChanged,
    RiskUpdateProposed,
)
from caseledger.domain.case.state import CaseStatus, ProposalStatus, RiskLevel
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.policy_rules import ApprovalRule, PolicyRules
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, REVIEWER, SUPERVISOR
from tests.support.builders import command, meta
from tests.support.case_history import CASE, CASE_ID, evidence, under_review

RISK = ProposeRiskUpdate(
    case_id=CASE_ID,
    proposed_risk_level=RiskLevel.HIGH,
    rationale="Interest far above the legal cap",
    evidence_refs=["e1"],
    confidence=0.8,
)
ESCALATE = ProposeCaseEscalation(
    case_id=CASE_ID, rationale="Pattern across borrowers", evidence_refs=["e1"], confidence=0.7
)


def proposed(body: ProposeRiskUpdate | ProposeCaseEscalation, seed: str = "p1") -> DomainEvent:
    return (
        CASE.given(*under_review(*evidence("e1")))
        .when(command(body, meta(AGENT, seed=seed)))
        .events()[0]
    )


def decision(event: DomainEvent, verdict: str = "approve") -> DecideProposal:
    assert isinstance(event, RiskUpdateProposed | EscalationProposed)
    assert event.approval_request_id is not None
    return DecideProposal(
        case_id=CASE_ID,
        approval_request_id=event.approval_request_id,
        proposal_digest=event.digest,
        decision="approve" if verdict == "approve" else "decline",
    )


def test_an_agent_risk_proposal_is_recorded_as_proposed_awaiting_approval() -> None:
    agent_meta = meta(AGENT, seed="p1")
    [event] = CASE.given(*under_review(*evidence("e1"))).when(command(RISK, agent_meta)).events()
    assert isinstance(event, RiskUpdateProposed)
    assert event.approval_request_id == agent_meta.new_id("apr")
    assert (event.agent_name, event.run_id, event.policy_version) == (
        "risk-bot",
        "run-1",
        "default",
    )
    assert event.proposed_risk_level is RiskLevel.HIGH
    assert event.current_risk_level is None


def test_a_policy_rule_may_commit_a_confident_risk_proposal_at_once() -> None:
    policy = PolicyRules(
        risk_update=ApprovalRule(
            approver_roles=frozenset({Role.REVIEWER}), auto_commit_min_confidence=0.75
        )
    )
    events = (
        CASE.given(*under_review(*evidence("e1")))
        .when(command(RISK, meta(AGENT, policy=policy, policy_version="v2")))
        .events()
    )
    proposal, committed = events
    assert isinstance(proposal, RiskUpdateProposed)
    assert proposal.approval_request_id is None
    assert isinstance(committed, RiskLevelChanged)
    assert (committed.approved_by_actor_type, committed.approved_by_actor_id) == ("policy", "v2")
    assert CASE.given(*under_review(*evidence("e1"), *events)).state.risk_level is RiskLevel.HIGH


def test_a_proposal_below_the_policy_confidence_is_rejected() -> None:
    policy = PolicyRules(min_proposal_confidence=0.9)
    CASE.given(*under_review(*evidence("e1"))).when(
        command(RISK, meta(AGENT, policy=policy))
    ).then_rejected(ReasonCode.CONFIDENCE_TOO_LOW)


def test_proposing_the_current_risk_level_is_rejected() -> None:
    prior = proposed(RISK, seed="p0")
    approved = (
        CASE.given(*under_review(*evidence("e1")), prior)
        .when(command(decision(prior), meta(REVIEWER, seed="d0")))
        .events()
    )
    CASE.given(*under_review(*evidence("e1"), prior, *approved)).when(
        command(RISK, meta(AGENT))
    ).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_proposed_escalation_without_evidence_is_rejected() -> None:
    CASE.given(*under_review(*evidence("e1"))).when(
        command(ESCALATE.model_copy(update={"evidence_refs": []}), meta(AGENT))
    ).then_rejected(ReasonCode.EVIDENCE_REQUIRED)


def test_proposed_escalation_citing_unapproved_evidence_is_rejected() -> None:
    CASE.given(*under_review(*evidence("e1", approved=False))).when(
        command(ESCALATE, meta(AGENT))
    ).then_rejected(ReasonCode.EVIDENCE_NOT_APPROVED)


def test_escalation_is_proposed_under_review_only_and_one_at_a_time() -> None:
    first = proposed(ESCALATE)
    assert isinstance(first, EscalationProposed)
    assert first.current_status is CaseStatus.UNDER_REVIEW
    CASE.given(*under_review(*evidence("e1"), first)).when(
        command(ESCALATE, meta(AGENT, seed="p2"))
    ).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_a_supervisor_approval_commits_the_escalation_naming_proposal_and_decision() -> None:
    event = proposed(ESCALATE)
    assert isinstance(event, EscalationProposed)
    decide_meta = meta(SUPERVISOR, seed="d1")
    state = (
        CASE.given(*under_review(*evidence("e1"), event))
        .when(command(decision(event), decide_meta))
        .then(
            CaseEscalated(
                case_id=CASE_ID,
                proposal_id=event.proposal_id,
                approval_request_id=event.approval_request_id,
                decision_id=decide_meta.new_id("dec"),
                from_status=CaseStatus.UNDER_REVIEW,
                to_status=CaseStatus.ESCALATED,
                approved_by_actor_type="user",
                approved_by_actor_id="sam",
                policy_version="default",
            )
        )
    )
    assert state.status is CaseStatus.ESCALATED
    assert state.proposals[event.proposal_id].status is ProposalStatus.APPROVED


def test_a_reviewer_approval_commits_the_risk_update() -> None:
    event = proposed(RISK)
    [changed] = (
        CASE.given(*under_review(*evidence("e1"), event))
        .when(command(decision(event), meta(REVIEWER, seed="d1")))
        .events()
    )
    assert isinstance(changed, RiskLevelChanged)
    assert changed.to_risk_level is RiskLevel.HIGH
    assert changed.approved_by_actor_id == "rita"


def test_escalation_needs_the_policys_approver_role() -> None:
    event = proposed(ESCALATE)
    CASE.given(*under_review(*evidence("e1"), event)).when(
        command(decision(event), meta(REVIEWER))
    ).then_rejected(ReasonCode.APPROVER_ROLE_REQUIRED)


def test_a_decision_binds_to_the_proposal_digest() -> None:
    event = proposed(RISK)
    tampered = decision(event).model_copy(update={"proposal_digest": "0" * 64})
    CASE.given(*under_review(*evidence("e1"), event)).when(
        command(tampered, meta(REVIEWER))
    ).then_rejected(ReasonCode.DIGEST_MISMATCH)


def test_nobody_decides_their_own_proposal() -> None:
    both = Actor(ActorType.USER, "bea", frozenset({Role.ANALYST, Role.SUPERVISOR}))
    event = (
        CASE.given(*under_review(*evidence("e1"))).when(command(ESCALATE, meta(both))).events()[0]
    )
    CASE.given(*under_review(*evidence("e1"), event)).when(
        command(decision(event), meta(both, seed="d1"))
    ).then_rejected(ReasonCode.FOUR_EYES)


def test_a_declined_proposal_changes_nothing_but_its_status() -> None:
    event = proposed(RISK)
    assert isinstance(event, RiskUpdateProposed)
    assert event.approval_request_id is not None
    decide_meta = meta(REVIEWER, seed="d1")
    state = (
        CASE.given(*under_review(*evidence("e1"), event))
        .when(command(decision(event, "decline"), decide_meta))
        .then(
            ProposalDeclined(
                case_id=CASE_ID,
                proposal_id=event.proposal_id,
                approval_request_id=event.approval_request_id,
                decision_id=decide_meta.new_id("dec"),
                declined_by_type="user",
                declined_by_id="rita",
                comment=None,
                policy_version="default",
            )
        )
    )
    assert state.risk_level is None
    assert state.open_proposals == []


def test_a_decided_request_cannot_be_decided_again() -> None:
    event = proposed(RISK)
    history = [*under_review(*evidence("e1")), event]
    decided = CASE.given(*history).when(command(decision(event), meta(REVIEWER))).events()
    CASE.given(*history, *decided).when(
        command(decision(event, "decline"), meta(SUPERVISOR))
    ).then_rejected(ReasonCode.APPROVAL_REQUEST_NOT_OPEN)


def test_deciding_an_unknown_request_is_rejected() -> None:
    unknown = DecideProposal(
        case_id=CASE_ID, approval_request_id="apr-x", proposal_digest="d", decision="approve"
    )
    CASE.given(*under_review()).when(command(unknown, meta(REVIEWER))).then_rejected(
        ReasonCode.UNKNOWN_REFERENCE
    )


def test_a_policy_change_between_proposal_and_decision_forces_reevaluation() -> None:
    event = proposed(ESCALATE)
    assert isinstance(event, EscalationProposed)
    assert event.approval_request_id is not None
    history = [*under_review(*evidence("e1")), event]
    v2_meta = meta(SUPERVISOR, seed="d1", policy_version="v2")
    [renewed] = CASE.given(*history).when(command(decision(event), v2_meta)).events()
    assert renewed == ProposalReevaluated(
        case_id=CASE_ID,
        proposal_id=event.proposal_id,
        previous_approval_request_id=event.approval_request_id,
        approval_request_id=v2_meta.new_id("apr"),
        previous_policy_version="default",
        policy_version="v2",
    )
    CASE.given(*history, renewed).when(
        command(decision(event), meta(SUPERVISOR, seed="d2", policy_version="v2"))
    ).then_rejected(ReasonCode.APPROVAL_REQUEST_NOT_OPEN)
    again = decision(event).model_copy(update={"approval_request_id": renewed.approval_request_id})
    [escalated] = (
        CASE.given(*history, renewed)
        .when(command(again, meta(SUPERVISOR, seed="d2", policy_version="v2")))
        .events()
    )
    assert isinstance(escalated, CaseEscalated)
    assert escalated.policy_version == "v2"


def test_a_case_with_undecided_proposals_cannot_be_closed() -> None:
    CASE.given(*under_review(*evidence("e1"), proposed(RISK))).when(
        command(CloseCase(case_id=CASE_ID, resolution="done"), meta(SUPERVISOR))
    ).then_rejected(ReasonCode.OPEN_PROPOSALS)
