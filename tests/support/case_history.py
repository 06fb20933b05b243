"""Case histories for given/when/then: the facts a test starts from."""

from __future__ import annotations

from caseledger.domain.case import decider as case_decider
from caseledger.domain.case.events import (
    CaseOpened,
    CaseReviewStarted,
    EvidenceApproved,
    EvidenceSubmitted,
)
from caseledger.domain.shared.events import DomainEvent
from tests.support.builders import TENANT
from tests.support.deciders import DeciderSpec

CASE = DeciderSpec(case_decider.initial_state, case_decider.evolve, case_decider.decide)
CASE_ID = "c1"


def opened(case_id: str = CASE_ID) -> CaseOpened:
    return CaseOpened(
        case_id=case_id,
        tenant_id=TENANT,
        allegation_summary="Unlicensed lending",
        assigned_team="enforcement",
        opened_by="user:alice",
    )


def under_review(*more: DomainEvent) -> list[DomainEvent]:
    return [opened(), CaseReviewStarted(case_id=CASE_ID, started_by="user:alice"), *more]


def evidence(evidence_id: str, approved: bool = True) -> list[DomainEvent]:
    submitted = EvidenceSubmitted(
        case_id=CASE_ID,
        evidence_id=evidence_id,
        title=f"Exhibit {evidence_id}",
        text="Ledger shows 40% monthly interest",
        source_ref=None,
        submitted_by="user:alice",
    )
    if not approved:
        return [submitted]
    verdict = EvidenceApproved(
        case_id=CASE_ID, evidence_id=evidence_id, reviewed_by="user:rita", comment=None
    )
    return [submitted, verdict]
