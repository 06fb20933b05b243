"""Case lifecycle rules: opened -> under review -> escalated -> closed, or dismissed."""

from __future__ import annotations

from caseledger.domain.case.commands import (
    CloseCase,
    CreateAnalystBrief,
    DismissCase,
    OpenCase,
    ReviewEvidence,
    StartCaseReview,
    SubmitEvidence,
)
from caseledger.domain.case.events import (
    AnalystBriefCreated,
    CaseClosed,
    CaseDismissed,
    CaseReviewStarted,
    EvidenceApproved,
    EvidenceRejected,
)
from caseledger.domain.case.state import CaseStatus, EvidenceStatus
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, REVIEWER, SUPERVISOR
from tests.support.builders import TENANT, command, meta
from tests.support.case_history import CASE, CASE_ID, evidence, opened, under_review


def test_opening_a_case_records_tenant_summary_team_and_opener() -> None:
    state = (
        CASE.given()
        .when(
            command(
                OpenCase(
                    case_id=CASE_ID,
                    allegation_summary="Unlicensed lending",
                    assigned_team="enforcement",
                )
            )
        )
        .then(opened())
    )
    assert state.status is CaseStatus.OPENED
    assert state.tenant_id == TENANT


def test_a_case_is_opened_once() -> None:
    CASE.given(opened()).when(
        command(OpenCase(case_id=CASE_ID, allegation_summary="again"))
    ).then_rejected(ReasonCode.ALREADY_EXISTS)


def test_review_starts_from_opened_only() -> None:
    state = (
        CASE.given(opened())
        .when(command(StartCaseReview(case_id=CASE_ID)))
        .then(CaseReviewStarted(case_id=CASE_ID, started_by="user:alice"))
    )
    assert state.status is CaseStatus.UNDER_REVIEW
    CASE.given(*under_review()).when(command(StartCaseReview(case_id=CASE_ID))).then_rejected(
        ReasonCode.INVALID_TRANSITION
    )


def test_submitted_evidence_awaits_review_and_ids_are_unique() -> None:
    body = SubmitEvidence(
        case_id=CASE_ID,
        evidence_id="e1",
        title="Exhibit e1",
        text="Ledger shows 40% monthly interest",
    )
    state = CASE.given(*under_review()).when(command(body)).then(*evidence("e1", approved=False))
    assert state.evidence == {"e1": EvidenceStatus.SUBMITTED}
    CASE.given(*under_review(*evidence("e1"))).when(command(body)).then_rejected(
        ReasonCode.DUPLICATE_ID
    )


def test_evidence_is_approved_or_rejected_once() -> None:
    given = CASE.given(*under_review(*evidence("e1", approved=False)))
    approve = ReviewEvidence(case_id=CASE_ID, evidence_id="e1", verdict="approve")
    state = given.when(command(approve, meta(REVIEWER))).then(
        EvidenceApproved(case_id=CASE_ID, evidence_id="e1", reviewed_by="user:rita", comment=None)
    )
    assert state.approved_evidence() == ["e1"]
    reject = ReviewEvidence(case_id=CASE_ID, evidence_id="e1", verdict="reject", comment="forged")
    given.when(command(reject, meta(REVIEWER))).then(
        EvidenceRejected(
            case_id=CASE_ID, evidence_id="e1", reviewed_by="user:rita", comment="forged"
        )
    )
    CASE.given(*under_review(*evidence("e1"))).when(command(reject, meta(REVIEWER))).then_rejected(
        ReasonCode.INVALID_TRANSITION
    )


def test_reviewing_unknown_evidence_is_rejected() -> None:
    body = ReviewEvidence(case_id=CASE_ID, evidence_id="nope", verdict="approve")
    CASE.given(*under_review()).when(command(body, meta(REVIEWER))).then_rejected(
        ReasonCode.UNKNOWN_REFERENCE
    )


def test_an_agent_brief_cites_only_approved_evidence() -> None:
    body = CreateAnalystBrief(
        case_id=CASE_ID, brief_id="b1", title="Brief", body="Findings", evidence_refs=["e1"]
    )
    state = (
        CASE.given(*under_review(*evidence("e1")))
        .when(command(body, meta(AGENT)))
        .then(
            AnalystBriefCreated(
                case_id=CASE_ID,
                brief_id="b1",
                title="Brief",
                body="Findings",
                evidence_refs=["e1"],
                author_type="agent",
                author_id="risk-bot",
                run_id="run-1",
            )
        )
    )
    assert state.briefs == {"b1"}
    CASE.given(*under_review(*evidence("e1", approved=False))).when(command(body)).then_rejected(
        ReasonCode.EVIDENCE_NOT_APPROVED
    )
    CASE.given(*under_review(*evidence("e1"))).when(
        command(body.model_copy(update={"evidence_refs": ["e9"]}))
    ).then_rejected(ReasonCode.UNKNOWN_REFERENCE)


def test_brief_ids_are_unique_in_a_case() -> None:
    body = CreateAnalystBrief(case_id=CASE_ID, brief_id="b1", title="Brief", body="Findings")
    first = CASE.given(*under_review()).when(command(body)).events()
    CASE.given(*under_review(*first)).when(command(body)).then_rejected(ReasonCode.DUPLICATE_ID)


def test_closing_needs_review_or_escalation_and_is_final() -> None:
    close = CloseCase(case_id=CASE_ID, resolution="Fined")
    state = (
        CASE.given(*under_review())
        .when(command(close, meta(SUPERVISOR)))
        .then(CaseClosed(case_id=CASE_ID, resolution="Fined", closed_by="user:sam"))
    )
    assert state.status is CaseStatus.CLOSED
    CASE.given(opened()).when(command(close, meta(SUPERVISOR))).then_rejected(
        ReasonCode.INVALID_TRANSITION
    )
    closed = CaseClosed(case_id=CASE_ID, resolution="Fined", closed_by="user:sam")
    CASE.given(*under_review(closed)).when(
        command(SubmitEvidence(case_id=CASE_ID, evidence_id="e2", title="t", text="x"))
    ).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_dismissal_happens_before_escalation_only() -> None:
    dismiss = DismissCase(case_id=CASE_ID, reason="No jurisdiction")
    state = (
        CASE.given(opened())
        .when(command(dismiss, meta(SUPERVISOR)))
        .then(CaseDismissed(case_id=CASE_ID, reason="No jurisdiction", dismissed_by="user:sam"))
    )
    assert state.status is CaseStatus.DISMISSED
    assert not state.active


def test_commands_on_a_case_that_does_not_exist_are_rejected() -> None:
    CASE.given().when(command(StartCaseReview(case_id=CASE_ID))).then_rejected(
        ReasonCode.INVALID_TRANSITION
    )
