"""Policy what-if (#26): past decisions re-decided under a draft policy, with the domain's own
deciders, on the history the command service wrote. Nothing is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from caseledger.domain.application.codec import StoredEvent
from caseledger.domain.application.service import CommandService
from caseledger.domain.application.whatif import WhatIf, document, what_if
from caseledger.domain.application.whatif.reading import read_history
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.policy_rules import PolicyRules
from tests.support.actors import AGENT, ANALYST, REVIEWER, SUPERVISOR
from tests.support.builders import TENANT
from tests.support.clocks import FixedClock
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.memory_store import InMemoryEventStore

FLOOR_THEN = 0.6
CURRENT: dict[str, Any] = {
    "risk_update": {
        "approver_roles": ["reviewer", "supervisor"],
        "auto_commit_min_confidence": FLOOR_THEN,
    }
}


def publish(service: CommandService, version: str, rules: dict[str, Any]) -> None:
    payload = {"policy_version": version, "rules": rules}
    accepted(issue(service, "publish_policy", payload, SUPERVISOR))


def propose(service: CommandService, case_id: str, confidence: float) -> CommandResult:
    payload = {
        "case_id": case_id,
        "proposed_risk_level": "high",
        "rationale": "repeated late filings",
        "evidence_refs": ["e1"],
        "confidence": confidence,
    }
    return issue(service, "propose_risk_update", payload, AGENT)


def decide(service: CommandService, proposal: CommandResult, actor: Any) -> CommandResult:
    event = proposal.events[0]
    payload = {
        "case_id": event.payload["case_id"],
        "approval_request_id": proposal.approval_request_id,
        "proposal_digest": event.payload["digest"],
        "decision": "approve",
    }
    return accepted(issue(service, "decide_proposal", payload, actor))


def report(store: InMemoryEventStore, draft: dict[str, Any], **kw: Any) -> WhatIf:
    read = read_history(store, TENANT, store.streams())
    assert read.unreadable == []
    return what_if([read.history], PolicyRules.model_validate(draft), **kw)


def rules_with(**changes: Any) -> dict[str, Any]:
    rules = {k: dict(v) for k, v in CURRENT.items()}
    for path, value in changes.items():
        head, _, rest = path.partition("__")
        if rest:
            rules.setdefault(head, {})[rest] = value
        else:
            rules[head] = value
    return rules


@pytest.fixture
def floors(service: CommandService) -> dict[float, str]:
    """One case per confidence, each proposed once under a floor of 0.6: the event of each."""
    publish(service, "v1", CURRENT)
    where = {}
    for n, confidence in enumerate((0.5, 0.65, 0.75, 0.8, 0.95)):
        case_id = f"c{n}"
        case_under_review(service, case_id)
        result = propose(service, case_id, confidence)
        where[confidence] = f"{result.stream_id}@{result.events[0].stream_revision}"
    return where


def test_raising_the_auto_commit_floor_lists_exactly_the_proposals_committed_between_the_floors(
    store: InMemoryEventStore, floors: dict[float, str]
) -> None:
    found = report(store, rules_with(risk_update__auto_commit_min_confidence=0.8))

    assert [d.event for d in found.differences] == [floors[0.65], floors[0.75]]
    for difference in found.differences:
        assert difference.then.outcome == "accepted"
        assert difference.then.events == ("case.risk_update_proposed", "case.risk_level_changed")
        assert difference.draft.outcome == "requires_approval"
        assert difference.draft.events == ("case.risk_update_proposed",)
        assert difference.rules == ("risk_update.auto_commit_min_confidence",)
        assert difference.who == "agent:risk-bot"
        assert difference.policy_version == "v1"
    assert found.totals == {"risk_update.auto_commit_min_confidence": 2}
    assert found.undetermined == []


def test_lowering_the_floor_lists_the_proposals_that_would_have_committed_at_once(
    store: InMemoryEventStore, floors: dict[float, str]
) -> None:
    found = report(store, rules_with(risk_update__auto_commit_min_confidence=0.5))

    assert [d.event for d in found.differences] == [floors[0.5]]
    assert found.differences[0].then.outcome == "requires_approval"
    assert found.differences[0].draft.outcome == "accepted"


def test_the_current_policy_lists_nothing(
    store: InMemoryEventStore, floors: dict[float, str]
) -> None:
    found = report(store, CURRENT)

    assert found.differences == []
    assert found.undetermined == []
    assert found.examined == len(floors)


def test_a_what_if_writes_nothing(store: InMemoryEventStore, floors: dict[float, str]) -> None:
    head, appends = store.head_position(), store.appends

    report(store, rules_with(risk_update__auto_commit_min_confidence=0.9, agent_commands=[]))

    assert (store.head_position(), store.appends) == (head, appends)


def test_removing_reviewer_from_approver_roles_lists_exactly_the_decisions_reviewers_made(
    service: CommandService, store: InMemoryEventStore
) -> None:
    publish(service, "v1", {"risk_update": {"approver_roles": ["reviewer", "supervisor"]}})
    made_by_reviewers = []
    for n, decider in enumerate((REVIEWER, SUPERVISOR, REVIEWER, SUPERVISOR)):
        case_under_review(service, f"c{n}")
        decision = decide(service, propose(service, f"c{n}", 0.7), decider)
        if decider is REVIEWER:
            made_by_reviewers.append(f"{decision.stream_id}@{decision.stream_revision}")

    found = report(store, {"risk_update": {"approver_roles": ["supervisor"]}})

    assert [d.event for d in found.differences] == made_by_reviewers
    for difference in found.differences:
        assert difference.command_type == "decide_proposal"
        assert difference.who == "user:rita (reviewer)"
        assert difference.then.text == "accepted (case.risk_level_changed)"
        assert difference.draft.text == "rejected (approver_role_required)"
        assert difference.rules == ("risk_update.approver_roles",)
    assert found.totals == {"risk_update.approver_roles": 2}


def test_notice_approvals_by_reviewers_are_listed_under_the_notice_approver_roles(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service, "c1")
    draft = {"draft_id": "n1", "case_id": "c1", "recipient": "r@x", "subject": "s", "body": "b"}
    accepted(issue(service, "create_notice_draft", draft, ANALYST))
    requested = accepted(issue(service, "request_notice_approval", {"draft_id": "n1"}, ANALYST))
    approval = {
        "draft_id": "n1",
        "approval_request_id": requested.approval_request_id,
        "digest": requested.events[0].payload["digest"],
    }
    approved = accepted(issue(service, "approve_notice_draft", approval, REVIEWER))

    found = report(store, {"notice_approver_roles": ["supervisor"]})

    assert [(d.event, d.case_id) for d in found.differences] == [
        (f"noticedraft-t1_n1@{approved.stream_revision}", "c1")
    ]
    assert found.differences[0].rules == ("notice_approver_roles",)


def test_a_stricter_evidence_minimum_lists_escalations_proposed_with_too_few_refs(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service, "c1", approved_evidence=("e1",))
    case_under_review(service, "c2", approved_evidence=("e1", "e2"))
    for case_id, refs in (("c1", ["e1"]), ("c2", ["e1", "e2"])):
        payload = {"case_id": case_id, "rationale": "r", "evidence_refs": refs, "confidence": 0.9}
        issue(service, "propose_case_escalation", payload, ANALYST)

    found = report(store, {"min_escalation_evidence": 2})

    assert [(d.case_id, d.draft.text) for d in found.differences] == [
        ("c1", "rejected (evidence_required)")
    ]
    assert found.totals == {"min_escalation_evidence": 1}


def test_an_agent_refused_by_policy_is_listed_when_the_draft_grants_the_command(
    service: CommandService, store: InMemoryEventStore
) -> None:
    publish(service, "v1", {"agent_commands": ["propose_risk_update"]})
    case_under_review(service, "c1")
    brief = {"case_id": "c1", "brief_id": "b1", "title": "t", "body": "b", "evidence_refs": []}
    refused = issue(service, "create_analyst_brief", brief, AGENT)
    assert refused.reason_code is not None
    assert refused.reason_code.value == "policy_forbids_agent"

    found = report(store, {"agent_commands": ["propose_risk_update", "create_analyst_brief"]})

    assert len(found.differences) == 1
    listed = found.differences[0]
    assert (listed.command_type, listed.case_id, listed.event) == (
        "create_analyst_brief",
        "c1",
        "commandlog-t1@0",
    )
    assert listed.then.text == "rejected (policy_forbids_agent)"
    assert listed.draft.outcome == "unknown"
    assert listed.rules == ("agent_commands",)


def test_agents_commands_the_draft_no_longer_grants_are_listed(
    store: InMemoryEventStore, floors: dict[float, str]
) -> None:
    found = report(store, rules_with(agent_commands=["create_analyst_brief"]))

    assert len(found.differences) == len(floors)
    assert {d.draft.text for d in found.differences} == {"rejected (policy_forbids_agent)"}
    assert found.totals == {"agent_commands": len(floors)}


def test_since_leaves_out_what_was_decided_before(
    service: CommandService, store: InMemoryEventStore, clock: FixedClock
) -> None:
    publish(service, "v1", CURRENT)
    case_under_review(service, "c1")
    case_under_review(service, "c2")
    propose(service, "c1", 0.7)
    clock.advance(timedelta(days=2))
    late = propose(service, "c2", 0.7)

    since = clock.now() - timedelta(days=1)
    found = report(store, rules_with(risk_update__auto_commit_min_confidence=0.9), since=since)

    assert [d.event for d in found.differences] == [
        f"{late.stream_id}@{late.events[0].stream_revision}"
    ]


def test_the_report_document_carries_each_difference_and_the_totals(
    store: InMemoryEventStore, floors: dict[float, str]
) -> None:
    found = report(store, rules_with(risk_update__auto_commit_min_confidence=0.8))

    answer = document(found).model_dump(mode="json")

    assert answer["complete"] is True
    assert [d["event"] for d in answer["differences"]] == [floors[0.65], floors[0.75]]
    assert answer["differences"][0]["then"]["outcome"] == "accepted"
    assert answer["totals"] == {"risk_update.auto_commit_min_confidence": 2}


def test_when_two_rules_change_the_difference_is_put_on_the_one_that_gives_the_draft_outcome(
    store: InMemoryEventStore, floors: dict[float, str]
) -> None:
    draft = rules_with(risk_update__auto_commit_min_confidence=0.8, min_proposal_confidence=0.7)

    found = report(store, draft)

    by_event = {d.event: (d.draft.text, d.rules) for d in found.differences}
    assert by_event == {
        floors[0.5]: ("rejected (confidence_too_low)", ("min_proposal_confidence",)),
        floors[0.65]: ("rejected (confidence_too_low)", ("min_proposal_confidence",)),
        floors[0.75]: (
            "requires_approval (case.risk_update_proposed)",
            ("risk_update.auto_commit_min_confidence",),
        ),
    }


def without_roles(stored: StoredEvent) -> StoredEvent:
    metadata = {k: v for k, v in stored.metadata.items() if k != "actorRoles"}
    return replace(stored, metadata=metadata)


def test_decisions_whose_roles_were_not_recorded_are_undetermined_never_guessed(
    service: CommandService, store: InMemoryEventStore
) -> None:
    case_under_review(service, "c1")
    decision = decide(service, propose(service, "c1", 0.7), REVIEWER)
    read = read_history(store, TENANT, store.streams())
    old = replace(
        read.history, streams=[[without_roles(e) for e in s] for s in read.history.streams]
    )

    stricter = what_if([old], PolicyRules.model_validate({"notice_approver_roles": ["supervisor"]}))
    unchanged = what_if([old], PolicyRules())

    assert stricter.differences == []
    assert [(u.event, u.why) for u in stricter.undetermined] == [
        (f"{decision.stream_id}@{decision.stream_revision}", "its roles were not recorded")
    ]
    assert (unchanged.differences, unchanged.undetermined) == ([], [])


def test_a_reviewer_refused_a_notice_approval_is_listed_when_the_draft_lets_reviewers_approve(
    service: CommandService, store: InMemoryEventStore
) -> None:
    publish(service, "v1", {"notice_approver_roles": ["supervisor"]})
    case_under_review(service, "c1")
    draft = {"draft_id": "n1", "case_id": "c1", "recipient": "r@x", "subject": "s", "body": "b"}
    accepted(issue(service, "create_notice_draft", draft, ANALYST))
    requested = accepted(issue(service, "request_notice_approval", {"draft_id": "n1"}, ANALYST))
    approval = {
        "draft_id": "n1",
        "approval_request_id": requested.approval_request_id,
        "digest": requested.events[0].payload["digest"],
    }
    refused = issue(service, "approve_notice_draft", approval, REVIEWER)
    assert refused.reason_code is not None
    assert refused.reason_code.value == "approver_role_required"

    found = report(store, {"notice_approver_roles": ["reviewer", "supervisor"]})
    same = report(store, {"notice_approver_roles": ["supervisor"]})

    assert [(d.command_type, d.case_id, d.who, d.rules) for d in found.differences] == [
        ("approve_notice_draft", "c1", "user:rita (reviewer)", ("notice_approver_roles",))
    ]
    assert found.differences[0].then.text == "rejected (approver_role_required)"
    assert (same.differences, same.undetermined) == ([], [])


def test_a_refusal_for_too_little_confidence_is_undetermined_under_a_lower_minimum(
    service: CommandService, store: InMemoryEventStore
) -> None:
    publish(service, "v1", {"min_proposal_confidence": 0.6})
    case_under_review(service, "c1")
    assert propose(service, "c1", 0.4).reason_code is not None

    lower = report(store, {"min_proposal_confidence": 0.3})
    higher = report(store, {"min_proposal_confidence": 0.9})

    assert lower.differences == []
    assert [(u.command_type, u.rules) for u in lower.undetermined] == [
        ("propose_risk_update", ("min_proposal_confidence",))
    ]
    assert "does not record the confidence" in lower.undetermined[0].why
    assert (higher.differences, higher.undetermined) == ([], [])
