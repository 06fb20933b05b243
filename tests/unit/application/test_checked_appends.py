"""Commands on cached state: where the store checks appends atomically, a warm command reads
nothing and its append checks that the aggregate, the policy and the case it decided on are
still current; whatever moved makes it read and decide again. Refusals are never answered from
state nobody read. Two services on one store stand for two processes."""

from __future__ import annotations

from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, ANALYST, REVIEWER, SUPERVISOR
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.memory_store import Watched, WithoutChecks
from tests.support.services import command_service

BRIEF = {"case_id": "c1", "brief_id": "b1", "title": "t", "body": "b"}


def test_a_warm_command_reads_nothing_and_its_append_checks_what_it_decided_on() -> None:
    store = Watched()
    service = command_service(store)
    head = case_under_review(service).stream_revision
    store.read_calls, store.checked = 0, []

    result = accepted(issue(service, "create_analyst_brief", BRIEF, ANALYST))

    assert store.read_calls == 0
    assert store.checked == [("case-t1_c1", head, {"policy-t1": -1})]
    assert result.stream_revision == head + 1


def test_a_notice_command_checks_the_case_it_read() -> None:
    store = Watched()
    service = command_service(store)
    head = case_under_review(service).stream_revision
    draft = {"draft_id": "d1", "case_id": "c1", "recipient": "x@y.org", "subject": "s", "body": "b"}
    accepted(issue(service, "create_notice_draft", draft, ANALYST))
    requested = accepted(issue(service, "request_notice_approval", {"draft_id": "d1"}, ANALYST))
    approval = {
        "draft_id": "d1",
        "approval_request_id": requested.events[0].payload["approval_request_id"],
        "digest": requested.events[0].payload["digest"],
    }
    store.read_calls = 0

    accepted(issue(service, "approve_notice_draft", approval, REVIEWER))

    assert store.read_calls == 0
    assert store.checked[-1] == ("noticedraft-t1_d1", 1, {"policy-t1": -1, "case-t1_c1": head})


def test_a_policy_published_elsewhere_is_seen_before_the_decision_commits() -> None:
    store = Watched()
    here, elsewhere = command_service(store), command_service(store)
    case_under_review(here)
    propose = {"case_id": "c1", "rationale": "r", "evidence_refs": ["e1"], "confidence": 0.5}
    rules = {"agent_commands": ["propose_risk_update"]}  # escalations no longer
    accepted(
        issue(elsewhere, "publish_policy", {"policy_version": "v2", "rules": rules}, SUPERVISOR)
    )

    result = issue(here, "propose_case_escalation", propose, AGENT)

    assert (result.status, result.reason_code) == (
        CommandOutcome.REJECTED,
        ReasonCode.POLICY_FORBIDS_AGENT,
    )
    assert [r.type for r in store.read_stream("case-t1_c1")][
        -1
    ] == "case.evidence_approved"  # nothing written


def test_a_refusal_on_cached_state_is_decided_again_on_read_state() -> None:
    store = Watched()
    here, elsewhere = command_service(store), command_service(store)
    case_under_review(here)
    evidence = {"case_id": "c1", "evidence_id": "e2", "title": "t", "text": "x"}
    accepted(issue(elsewhere, "submit_evidence", evidence, ANALYST))
    verdict = {"case_id": "c1", "evidence_id": "e2", "verdict": "approve"}
    accepted(issue(elsewhere, "review_evidence", verdict, REVIEWER))

    # `here` still holds the case without e2: on that alone the brief would be refused.
    result = issue(here, "create_analyst_brief", {**BRIEF, "evidence_refs": ["e2"]}, ANALYST)

    assert result.status is CommandOutcome.ACCEPTED


def test_a_retry_of_a_command_written_elsewhere_is_a_duplicate_with_the_original_events() -> None:
    store = Watched()
    here, elsewhere = command_service(store), command_service(store)
    case_under_review(here)
    original = accepted(issue(elsewhere, "create_analyst_brief", BRIEF, ANALYST, key="brief-1"))

    again = issue(here, "create_analyst_brief", BRIEF, ANALYST, key="brief-1")

    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert [e.event_id for e in again.events] == [e.event_id for e in original.events]
    assert (again.stream_revision, again.commit_position) == (
        original.stream_revision,
        original.commit_position,
    )
    assert (
        len([r for r in store.read_stream("case-t1_c1") if r.type == "case.analyst_brief_created"])
        == 1
    )


def test_a_conflicting_expected_version_is_answered_only_from_read_state() -> None:
    store = Watched()
    here, elsewhere = command_service(store), command_service(store)
    head = case_under_review(here).stream_revision
    accepted(issue(elsewhere, "create_analyst_brief", BRIEF, ANALYST))

    # The caller read head + 1 (written elsewhere); `here`'s cache is one behind.
    brief = {**BRIEF, "brief_id": "b2"}
    result = issue(here, "create_analyst_brief", brief, ANALYST, expected=head + 1)

    assert result.status is CommandOutcome.ACCEPTED
    assert result.stream_revision == head + 2


def test_without_atomic_checks_the_service_reads_before_every_command() -> None:
    store = WithoutChecks()
    service = command_service(store)
    case_under_review(service)
    store.read_calls = 0

    accepted(issue(service, "create_analyst_brief", BRIEF, ANALYST))
    accepted(issue(service, "create_analyst_brief", {**BRIEF, "brief_id": "b2"}, ANALYST))

    assert store.read_calls == 2
    assert (
        len([r for r in store.read_stream("case-t1_c1") if r.type == "case.analyst_brief_created"])
        == 2
    )
