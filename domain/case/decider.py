"""The Case decider: `decide(command, state) -> events`, `evolve(state, event) -> state`.

Pure: time, ids, actor, policy come on the command's metadata. Each command applies its rules in
the order lifecycle -> policy -> evidence, then states the facts.
"""

from __future__ import annotations

from caseledger.domain.case import proposals
from caseledger.domain.case.commands import (
    CaseCommand,
    CloseCase,
    CreateAnalystBrief,
    DecideProposal,
    DismissCase,
    OpenCase,
    ProposeCaseEscalation,
    ProposeRiskUpdate,
    ReviewEvidence,
    StartCaseReview,
    SubmitEvidence,
)
from caseledger.domain.case.events import (
    AnalystBriefCreated,
    CaseClosed,
    CaseDismissed,
    CaseEscalated,
    CaseOpened,
    CaseReviewStarted,
    EscalationProposed,
    EvidenceApproved,
    EvidenceRejected,
    EvidenceSubmitted,
    ProposalDeclined,
    ProposalReevaluated,
    RiskLevelChanged,
    RiskUpdateProposed,
)
from caseledger.domain.case.rules import (
    require_active,
    require_approved_evidence,
    require_new_id,
    require_no_open_proposals,
    require_status,
)
from caseledger.domain.case.state import (
    CaseState,
    CaseStatus,
    EvidenceStatus,
    Proposal,
    ProposalKind,
    ProposalStatus,
)
from caseledger.domain.shared.commands import Command, CommandMeta
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.persistent import evolved
from caseledger.domain.shared.reasons import ReasonCode


def initial_state() -> CaseState:
    return CaseState()


def decide(command: Command[CaseCommand], state: CaseState) -> list[DomainEvent]:
    """The facts `command` establishes, or `Rejected` naming the rule it breaks."""
    body, meta = command.body, command.meta
    match body:
        case OpenCase():
            return _open(body, meta, state)
        case StartCaseReview():
            require_status(state, {CaseStatus.OPENED}, "start reviewing")
            return [CaseReviewStarted(case_id=body.case_id, started_by=meta.actor.key)]
        case SubmitEvidence():
            return _submit_evidence(body, meta, state)
        case ReviewEvidence():
            return _review_evidence(body, meta, state)
        case ProposeRiskUpdate():
            return proposals.propose_risk_update(body, meta, state)
        case ProposeCaseEscalation():
            return proposals.propose_escalation(body, meta, state)
        case DecideProposal():
            return proposals.decide_proposal(body, meta, state)
        case CreateAnalystBrief():
            return _create_brief(body, meta, state)
        case CloseCase():
            require_status(state, {CaseStatus.UNDER_REVIEW, CaseStatus.ESCALATED}, "close")
            require_no_open_proposals(state, "close")
            return [
                CaseClosed(
                    case_id=body.case_id, resolution=body.resolution, closed_by=meta.actor.key
                )
            ]
        case DismissCase():
            require_status(state, {CaseStatus.OPENED, CaseStatus.UNDER_REVIEW}, "dismiss")
            require_no_open_proposals(state, "dismiss")
            return [
                CaseDismissed(case_id=body.case_id, reason=body.reason, dismissed_by=meta.actor.key)
            ]


def _open(body: OpenCase, meta: CommandMeta, state: CaseState) -> list[DomainEvent]:
    if state.status is not CaseStatus.NEW:
        raise Rejected(ReasonCode.ALREADY_EXISTS, f"case {body.case_id!r} already exists")
    return [
        CaseOpened(
            case_id=body.case_id,
            tenant_id=meta.tenant_id,
            allegation_summary=body.allegation_summary,
            assigned_team=body.assigned_team,
            opened_by=meta.actor.key,
        )
    ]


def _submit_evidence(
    body: SubmitEvidence, meta: CommandMeta, state: CaseState
) -> list[DomainEvent]:
    require_active(state, "add evidence to")
    require_new_id(state.evidence, body.evidence_id, "evidence")
    return [
        EvidenceSubmitted(
            case_id=body.case_id,
            evidence_id=body.evidence_id,
            title=body.title,
            text=body.text,
            source_ref=body.source_ref,
            submitted_by=meta.actor.key,
        )
    ]


def _review_evidence(
    body: ReviewEvidence, meta: CommandMeta, state: CaseState
) -> list[DomainEvent]:
    """Evidence is reviewed once: submitted -> approved or rejected."""
    require_active(state, "review evidence of")
    status = state.evidence.get(body.evidence_id)
    if status is None:
        raise Rejected(ReasonCode.UNKNOWN_REFERENCE, f"no evidence {body.evidence_id!r}")
    if status is not EvidenceStatus.SUBMITTED:
        raise Rejected(
            ReasonCode.INVALID_TRANSITION, f"evidence {body.evidence_id!r} is already {status}"
        )
    verdict = EvidenceApproved if body.verdict == "approve" else EvidenceRejected
    return [
        verdict(
            case_id=body.case_id,
            evidence_id=body.evidence_id,
            reviewed_by=meta.actor.key,
            comment=body.comment,
        )
    ]


def _create_brief(
    body: CreateAnalystBrief, meta: CommandMeta, state: CaseState
) -> list[DomainEvent]:
    """A brief is a low-risk artifact; it may cite only approved evidence."""
    require_active(state, "brief")
    require_new_id(state.briefs, body.brief_id, "brief")
    require_approved_evidence(state, body.evidence_refs)
    return [
        AnalystBriefCreated(
            case_id=body.case_id,
            brief_id=body.brief_id,
            title=body.title,
            body=body.body,
            evidence_refs=body.evidence_refs,
            author_type=meta.actor.type.value,
            author_id=meta.actor.id,
            run_id=meta.actor.run_id,
        )
    ]


def evolve(state: CaseState, event: DomainEvent) -> CaseState:
    """The state after `event`; events this aggregate does not know leave it unchanged.
    `state` is left as it was; the new state shares its persistent collections, so folding n
    events costs O(n log n), not O(n²)."""
    match event:
        case CaseOpened():
            return evolved(
                state,
                case_id=event.case_id,
                tenant_id=event.tenant_id,
                status=CaseStatus.OPENED,
                allegation_summary=event.allegation_summary,
                assigned_team=event.assigned_team,
            )
        case CaseReviewStarted():
            return evolved(state, status=CaseStatus.UNDER_REVIEW)
        case EvidenceSubmitted():
            return _with_evidence(state, event.evidence_id, EvidenceStatus.SUBMITTED)
        case EvidenceApproved():
            return _with_evidence(state, event.evidence_id, EvidenceStatus.APPROVED)
        case EvidenceRejected():
            return _with_evidence(state, event.evidence_id, EvidenceStatus.REJECTED)
        case AnalystBriefCreated():
            return evolved(state, briefs=state.briefs.add(event.brief_id))
        case RiskUpdateProposed() | EscalationProposed():
            return _with_proposal(state, event)
        case ProposalReevaluated():
            return _reevaluated(state, event)
        case ProposalDeclined():
            return _with_status(state, event.proposal_id, ProposalStatus.DECLINED)
        case RiskLevelChanged():
            approved = _with_status(state, event.proposal_id, ProposalStatus.APPROVED)
            return evolved(approved, risk_level=event.to_risk_level)
        case CaseEscalated():
            approved = _with_status(state, event.proposal_id, ProposalStatus.APPROVED)
            return evolved(approved, status=event.to_status)
        case CaseClosed():
            return evolved(state, status=CaseStatus.CLOSED)
        case CaseDismissed():
            return evolved(state, status=CaseStatus.DISMISSED)
    return state


def _with_evidence(state: CaseState, evidence_id: str, status: EvidenceStatus) -> CaseState:
    return evolved(state, evidence=state.evidence.set(evidence_id, status))


def _with_proposal(state: CaseState, event: RiskUpdateProposed | EscalationProposed) -> CaseState:
    is_risk = isinstance(event, RiskUpdateProposed)
    risk_level = event.proposed_risk_level if isinstance(event, RiskUpdateProposed) else None
    proposal = Proposal(
        proposal_id=event.proposal_id,
        kind=ProposalKind.RISK_UPDATE if is_risk else ProposalKind.ESCALATION,
        digest=event.digest,
        approval_request_id=event.approval_request_id,
        policy_version=event.policy_version,
        proposed_by=f"{event.proposed_by_type}:{event.proposed_by_id}",
        evidence_refs=tuple(event.evidence_refs),
        proposed_risk_level=risk_level,
    )
    requests = state.approval_requests
    if event.approval_request_id is not None:
        requests = requests.set(event.approval_request_id, event.proposal_id)
    proposals = state.proposals.set(event.proposal_id, proposal)
    return evolved(state, proposals=proposals, approval_requests=requests)


def _reevaluated(state: CaseState, event: ProposalReevaluated) -> CaseState:
    proposal = evolved(
        state.proposals[event.proposal_id],
        approval_request_id=event.approval_request_id,
        policy_version=event.policy_version,
    )
    return evolved(
        state,
        proposals=state.proposals.set(event.proposal_id, proposal),
        approval_requests=state.approval_requests.set(event.approval_request_id, event.proposal_id),
    )


def _with_status(state: CaseState, proposal_id: str, status: ProposalStatus) -> CaseState:
    proposal = evolved(state.proposals[proposal_id], status=status)
    return evolved(state, proposals=state.proposals.set(proposal_id, proposal))
