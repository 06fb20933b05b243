"""The what-if report as JSON (the CLI's `--json`, the HTTP answer): a typed document, so the
OpenAPI description of `POST /v1/audit/what-if` is its schema."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from caseledger.domain.application.whatif.decisions import Outcome
from caseledger.domain.application.whatif.report import WhatIf


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True)


class OutcomeDoc(_Doc):
    outcome: str
    """`accepted`, `requires_approval`, `rejected`, or `unknown` (a refusal the draft lets past
    its rule; the command log keeps no payload to decide the rest)."""
    events: list[str]
    reason_code: str | None
    text: str


class DifferenceDoc(_Doc):
    tenant_id: str
    case_id: str | None
    event: str
    command_type: str
    who: str
    at: datetime | None
    policy_version: str
    then: OutcomeDoc
    draft: OutcomeDoc
    rules: list[str]
    note: str | None


class UndeterminedDoc(_Doc):
    tenant_id: str
    case_id: str | None
    event: str
    command_type: str
    who: str
    why: str
    rules: list[str]


class WhatIfReport(_Doc):
    """Which past decisions a draft policy would have decided otherwise, and by which rule."""

    since: datetime | None
    examined: int
    complete: bool
    incomplete_because: list[str]
    differences: list[DifferenceDoc]
    undetermined: list[UndeterminedDoc]
    totals: dict[str, int]


def _outcome(outcome: Outcome) -> OutcomeDoc:
    return OutcomeDoc(
        outcome=outcome.outcome,
        events=list(outcome.events),
        reason_code=outcome.reason_code,
        text=outcome.text,
    )


def document(report: WhatIf) -> WhatIfReport:
    return WhatIfReport(
        since=report.since,
        examined=report.examined,
        complete=not report.incomplete,
        incomplete_because=list(report.incomplete),
        differences=[
            DifferenceDoc(
                tenant_id=d.tenant_id,
                case_id=d.case_id,
                event=d.event,
                command_type=d.command_type,
                who=d.who,
                at=d.at,
                policy_version=d.policy_version,
                then=_outcome(d.then),
                draft=_outcome(d.draft),
                rules=list(d.rules),
                note=d.note,
            )
            for d in report.differences
        ],
        undetermined=[
            UndeterminedDoc(
                tenant_id=u.tenant_id,
                case_id=u.case_id,
                event=u.event,
                command_type=u.command_type,
                who=u.who,
                why=u.why,
                rules=list(u.rules),
            )
            for u in report.undetermined
        ],
        totals=report.totals,
    )
