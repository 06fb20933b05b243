"""Steps through the service that many tests start from."""

from __future__ import annotations

from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import ANALYST, REVIEWER
from tests.support.builders import TENANT
from tests.support.commands import issue


def accepted(result: CommandResult) -> CommandResult:
    assert result.status is CommandOutcome.ACCEPTED, (result.reason_code, result.reason)
    return result


def case_under_review(
    service: CommandService,
    case_id: str = "c1",
    approved_evidence: tuple[str, ...] = ("e1",),
    tenant: str = TENANT,
) -> CommandResult:
    """Open `case_id` in `tenant`, start its review, submit and approve `approved_evidence`."""
    accepted(
        issue(
            service,
            "open_case",
            {"case_id": case_id, "allegation_summary": "Unlicensed lending at 40% a month"},
            ANALYST,
            tenant=tenant,
        )
    )
    last = accepted(
        issue(service, "start_case_review", {"case_id": case_id}, ANALYST, tenant=tenant)
    )
    for evidence_id in approved_evidence:
        accepted(
            issue(
                service,
                "submit_evidence",
                {
                    "case_id": case_id,
                    "evidence_id": evidence_id,
                    "title": f"Exhibit {evidence_id}",
                    "text": "Loan ledger, 40% monthly interest",
                },
                ANALYST,
                tenant=tenant,
            )
        )
        last = accepted(
            issue(
                service,
                "review_evidence",
                {"case_id": case_id, "evidence_id": evidence_id, "verdict": "approve"},
                REVIEWER,
                tenant=tenant,
            )
        )
    return last
