"""Policy: versioned, published by supervisors, never granting agents a forbidden command."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from caseledger.domain.policy import decider
from caseledger.domain.policy.commands import PublishPolicy
from caseledger.domain.policy.events import PolicyPublished
from caseledger.domain.shared.actors import Role
from caseledger.domain.shared.policy_rules import DEFAULT_RULES, ApprovalRule, PolicyRules
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import SUPERVISOR
from tests.support.builders import TENANT, command, meta
from tests.support.deciders import DeciderSpec

POLICY = DeciderSpec(decider.initial_state, decider.evolve, decider.decide)
STRICT = PolicyRules(
    agent_commands=frozenset({"create_analyst_brief"}),
    risk_update=ApprovalRule(approver_roles=frozenset({Role.SUPERVISOR})),
)


def test_the_seed_table_is_the_policy_until_one_is_published() -> None:
    state = POLICY.given().state
    assert (state.version, state.rules) == ("default", DEFAULT_RULES)
    assert DEFAULT_RULES.allows_agent("propose_case_escalation")
    assert not DEFAULT_RULES.allows_agent("approve_notice_draft")
    assert DEFAULT_RULES.escalation.approver_roles == {Role.SUPERVISOR}


def test_a_supervisor_publishes_a_new_version_that_supersedes_the_current() -> None:
    body = PublishPolicy(policy_version="v2", rules=STRICT)
    state = (
        POLICY.given()
        .when(command(body, meta(SUPERVISOR)))
        .then(
            PolicyPublished(
                tenant_id=TENANT,
                policy_version="v2",
                rules=STRICT.model_dump(mode="json"),
                published_by="user:sam",
                supersedes="default",
            )
        )
    )
    assert (state.version, state.rules) == ("v2", STRICT)


def test_a_version_is_published_once() -> None:
    body = PublishPolicy(policy_version="v2", rules=STRICT)
    published = POLICY.given().when(command(body, meta(SUPERVISOR))).events()
    POLICY.given(*published).when(command(body, meta(SUPERVISOR))).then_rejected(
        ReasonCode.POLICY_VERSION_EXISTS
    )
    POLICY.given().when(
        command(body.model_copy(update={"policy_version": "default"}), meta(SUPERVISOR))
    ).then_rejected(ReasonCode.POLICY_VERSION_EXISTS)


def test_no_policy_can_let_agents_approve_send_or_close() -> None:
    with pytest.raises(ValidationError, match="agents can never be granted"):
        PolicyRules(agent_commands=frozenset({"approve_notice_draft", "close_case"}))


def test_a_rule_count_no_store_can_hold_is_invalid() -> None:
    with pytest.raises(ValidationError, match="min_escalation_evidence"):
        PolicyRules(min_escalation_evidence=2**63)


def test_auto_commit_applies_only_at_or_above_its_threshold() -> None:
    rule = ApprovalRule(approver_roles=frozenset(), auto_commit_min_confidence=0.9)
    assert rule.commits_automatically(0.9)
    assert not rule.commits_automatically(0.89)
    assert not DEFAULT_RULES.risk_update.commits_automatically(1.0)
