"""What a caller may do next on a case, computed at query time from the case's view, its
lifecycle, the tenant's policy and the caller (seed §5, §14). Advisory: the command handler
still decides; this only keeps an agent from proposing what would certainly be refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.policy_rules import PolicyRules

ACTIVE: Final = frozenset({"opened", "under_review", "escalated"})
_ANALYST, _REVIEWER, _SUPERVISOR = Role.ANALYST, Role.REVIEWER, Role.SUPERVISOR


@dataclass(frozen=True)
class CaseAction:
    """A case command, who may issue it (docs/catalogue.md) and from which statuses."""

    command: str
    roles: frozenset[Role]
    agents: bool
    system: bool
    statuses: frozenset[str]


CASE_ACTIONS: Final = (
    CaseAction(
        "start_case_review",
        frozenset({_ANALYST, _REVIEWER, _SUPERVISOR}),
        False,
        False,
        frozenset({"opened"}),
    ),
    CaseAction("submit_evidence", frozenset({_ANALYST}), False, True, ACTIVE),
    CaseAction("review_evidence", frozenset({_REVIEWER, _SUPERVISOR}), False, False, ACTIVE),
    CaseAction("propose_risk_update", frozenset({_ANALYST}), True, False, ACTIVE),
    CaseAction(
        "propose_case_escalation", frozenset({_ANALYST}), True, False, frozenset({"under_review"})
    ),
    CaseAction("decide_proposal", frozenset({_REVIEWER, _SUPERVISOR}), False, False, ACTIVE),
    CaseAction("create_analyst_brief", frozenset({_ANALYST}), True, False, ACTIVE),
    CaseAction("create_notice_draft", frozenset({_ANALYST}), True, False, ACTIVE),
    CaseAction(
        "close_case",
        frozenset({_SUPERVISOR}),
        False,
        True,
        frozenset({"under_review", "escalated"}),
    ),
    CaseAction(
        "dismiss_case",
        frozenset({_SUPERVISOR}),
        False,
        False,
        frozenset({"opened", "under_review"}),
    ),
)


def allowed_actions(context: Mapping[str, Any], policy: PolicyRules, caller: Actor) -> list[str]:
    """The case commands `caller` could issue now with a chance of acceptance."""
    return [
        a.command for a in CASE_ACTIONS if _may(a, caller, policy) and _fits(a, context, policy)
    ]


def _may(action: CaseAction, caller: Actor, policy: PolicyRules) -> bool:
    if caller.type is ActorType.AGENT:
        return action.agents and policy.allows_agent(action.command)
    if caller.type is ActorType.SYSTEM:
        return action.system
    roles = action.roles
    if action.command == "decide_proposal":
        roles = roles & (policy.risk_update.approver_roles | policy.escalation.approver_roles)
    return caller.has_any_role(roles)


def _fits(action: CaseAction, context: Mapping[str, Any], policy: PolicyRules) -> bool:
    if context.get("status") not in action.statuses:
        return False
    open_proposals = bool(context.get("open_proposals"))
    if action.command == "review_evidence":
        return any(e.get("status") == "submitted" for e in _evidence(context).values())
    if action.command == "decide_proposal":
        return open_proposals
    if action.command in ("close_case", "dismiss_case"):
        return not open_proposals
    if action.command == "propose_case_escalation":
        return len(approved_evidence(context)) >= policy.min_escalation_evidence
    return True


def approved_evidence(context: Mapping[str, Any]) -> list[str]:
    return [eid for eid, e in _evidence(context).items() if e.get("status") == "approved"]


def missing_evidence(context: Mapping[str, Any], policy: PolicyRules) -> list[str]:
    """What the case lacks before the policy lets it move on: approved evidence for an
    escalation, reviews of submitted evidence, approvals of evidence a proposal cites."""
    notes: list[str] = []
    approved = approved_evidence(context)
    if len(approved) < policy.min_escalation_evidence:
        notes.append(
            f"escalation needs {policy.min_escalation_evidence} approved evidence item(s); "
            f"the case has {len(approved)}"
        )
    evidence = _evidence(context)
    for evidence_id, item in evidence.items():
        if item.get("status") == "submitted":
            notes.append(f"evidence {evidence_id} ({item.get('title')}) awaits review")
    for proposal_id, proposal in dict(context.get("open_proposals") or {}).items():
        for ref in proposal.get("evidence_refs", []):
            if evidence.get(ref, {}).get("status") != "approved":
                notes.append(f"proposal {proposal_id} cites evidence {ref}, which is not approved")
    return notes


def policy_notes(policy: PolicyRules, version: str) -> list[str]:
    def roles(values: frozenset[Role]) -> str:
        return "/".join(sorted(r.value for r in values))

    notes = [
        f"policy version {version}",
        f"risk updates are decided by {roles(policy.risk_update.approver_roles)}",
        f"escalations are decided by {roles(policy.escalation.approver_roles)}",
        f"notices are approved by {roles(policy.notice_approver_roles)}; never by their author",
        f"escalation proposals need at least {policy.min_escalation_evidence} approved evidence",
        f"agents may issue: {', '.join(sorted(policy.agent_commands))}",
    ]
    if policy.min_proposal_confidence > 0:
        notes.append(f"proposals need confidence >= {policy.min_proposal_confidence}")
    return notes


def _evidence(context: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    value = context.get("evidence")
    return value if isinstance(value, dict) else {}
