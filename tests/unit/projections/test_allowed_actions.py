"""Allowed actions are computed at query time from the view, the lifecycle, the policy and
the caller."""

from __future__ import annotations

from typing import Any

from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.policy_rules import DEFAULT_RULES, PolicyRules
from caseledger.projections.queries.actions import allowed_actions, missing_evidence

AGENT = Actor(ActorType.AGENT, "triage-bot", run_id="run-1")
REVIEWER = Actor(ActorType.USER, "rev", frozenset({Role.REVIEWER}))
SUPERVISOR = Actor(ActorType.USER, "sup", frozenset({Role.SUPERVISOR}))


def context(status: str, evidence: dict[str, str], proposals: int = 0) -> dict[str, Any]:
    return {
        "status": status,
        "evidence": {k: {"status": v, "title": k} for k, v in evidence.items()},
        "open_proposals": {f"p{i}": {"evidence_refs": []} for i in range(proposals)},
    }


def test_an_agent_may_propose_and_draft_but_never_decide_or_close() -> None:
    actions = allowed_actions(context("under_review", {"e1": "approved"}, 1), DEFAULT_RULES, AGENT)

    assert set(actions) == {
        "propose_risk_update",
        "propose_case_escalation",
        "create_analyst_brief",
        "create_notice_draft",
    }


def test_escalation_is_not_offered_without_the_policy_minimum_of_approved_evidence() -> None:
    ctx = context("under_review", {"e1": "submitted"})

    assert "propose_case_escalation" not in allowed_actions(ctx, DEFAULT_RULES, AGENT)
    assert missing_evidence(ctx, DEFAULT_RULES)[0].startswith("escalation needs 1 approved")


def test_a_policy_that_withholds_a_command_from_agents_removes_it() -> None:
    policy = PolicyRules(agent_commands=frozenset({"create_analyst_brief"}))

    actions = allowed_actions(context("under_review", {"e1": "approved"}), policy, AGENT)
    assert actions == ["create_analyst_brief"]


def test_a_reviewer_may_decide_only_while_proposals_are_open() -> None:
    assert "decide_proposal" in allowed_actions(
        context("under_review", {}, 1), DEFAULT_RULES, REVIEWER
    )
    assert "decide_proposal" not in allowed_actions(
        context("under_review", {}), DEFAULT_RULES, REVIEWER
    )


def test_a_supervisor_may_close_only_without_open_proposals_and_nothing_after_closing() -> None:
    assert "close_case" in allowed_actions(context("escalated", {}), DEFAULT_RULES, SUPERVISOR)
    assert "close_case" not in allowed_actions(
        context("escalated", {}, 1), DEFAULT_RULES, SUPERVISOR
    )
    assert allowed_actions(context("closed", {}), DEFAULT_RULES, SUPERVISOR) == []
