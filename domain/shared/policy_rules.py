"""The rules a tenant's policy sets, and the seed's §5 table as the default.

Hard rules are not policy: agents can never be granted approving, sending, closing, dismissing,
reviewing evidence or publishing policy (`AGENT_ELIGIBLE_COMMANDS` is the ceiling).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from caseledger.domain.shared.actors import Role
from caseledger.domain.shared.ids import LARGEST_STORED

AGENT_ELIGIBLE_COMMANDS: Final = frozenset(
    {
        "propose_risk_update",
        "propose_case_escalation",
        "create_analyst_brief",
        "create_notice_draft",
        "revise_notice_draft",
        "request_notice_approval",
    }
)
"""Commands a policy may let agents issue: query, draft and propose; nothing else."""

DEFAULT_POLICY_VERSION: Final = "default"


class ApprovalRule(BaseModel):
    """Who decides a kind of proposal, and when a policy rule may commit it without a human."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approver_roles: frozenset[Role]
    auto_commit_min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)

    def commits_automatically(self, confidence: float) -> bool:
        threshold = self.auto_commit_min_confidence
        return threshold is not None and confidence >= threshold


class PolicyRules(BaseModel):
    """One version of a tenant's policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_commands: frozenset[str] = AGENT_ELIGIBLE_COMMANDS
    risk_update: ApprovalRule = ApprovalRule(
        approver_roles=frozenset({Role.REVIEWER, Role.SUPERVISOR})
    )
    escalation: ApprovalRule = ApprovalRule(approver_roles=frozenset({Role.SUPERVISOR}))
    notice_approver_roles: frozenset[Role] = frozenset({Role.REVIEWER, Role.SUPERVISOR})
    min_escalation_evidence: int = Field(default=1, ge=0, le=LARGEST_STORED)
    min_proposal_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    agent_commands_per_minute: int = Field(default=120, ge=1, le=LARGEST_STORED, strict=True)
    """Commands one agent may send in the tenant per minute (see application/budget.py)."""
    run_command_budget: int = Field(default=1_000, ge=1, le=LARGEST_STORED, strict=True)
    """Commands one agent run may issue in all (see application/budget.py)."""

    @field_validator("agent_commands")
    @classmethod
    def _agents_stay_below_the_ceiling(cls, value: frozenset[str]) -> frozenset[str]:
        forbidden = value - AGENT_ELIGIBLE_COMMANDS
        if forbidden:
            raise ValueError(f"agents can never be granted {sorted(forbidden)}")
        return value

    def allows_agent(self, command_type: str) -> bool:
        return command_type in self.agent_commands


DEFAULT_RULES: Final = PolicyRules()
