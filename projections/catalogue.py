"""The read side's projections at their current versions: what a runner runs and what
`caseledger projections rebuild NAME` knows by name."""

from __future__ import annotations

from caseledger.projections.projection import Projection
from caseledger.projections.views.agent_context import CaseAgentContextProjection
from caseledger.projections.views.audit_index import AuditIndexProjection
from caseledger.projections.views.case_summary import CaseSummaryProjection
from caseledger.projections.views.evidence_search import EvidenceSearchProjection
from caseledger.projections.views.notice_drafts import NoticeDraftsProjection
from caseledger.projections.views.pending_approvals import PendingApprovalsProjection
from caseledger.projections.views.tenant_policies import TenantPoliciesProjection


def all_projections() -> list[Projection]:
    return [
        CaseSummaryProjection(),
        CaseAgentContextProjection(),
        EvidenceSearchProjection(),
        PendingApprovalsProjection(),
        NoticeDraftsProjection(),
        TenantPoliciesProjection(),
        AuditIndexProjection(),
    ]


def projection_named(name: str) -> Projection:
    for projection in all_projections():
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in all_projections())
    raise KeyError(f"no projection {name!r} (known: {known})")
