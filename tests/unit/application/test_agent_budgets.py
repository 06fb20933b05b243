"""Agent budgets set by the tenant's policy: a run's command budget, counted in the event store
(so it holds across restarts and is shared by every service on the store), and an agent's
commands per minute, which every command it sends counts against."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from caseledger.domain.application.budget import budget_stream
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import ANALYST, SUPERVISOR
from tests.support.clocks import FixedClock
from tests.support.commands import envelope, issue
from tests.support.desk import accepted, case_under_review
from tests.support.memory_store import WithoutChecks
from tests.support.services import command_service

RUN_A = Actor(ActorType.AGENT, "risk-bot", run_id="run-a")
RUN_B = Actor(ActorType.AGENT, "risk-bot", run_id="run-b")
RUN_C = Actor(ActorType.AGENT, "risk-bot", run_id="run-c")
_briefs = iter(range(1, 1_000_000))


def publish(service: CommandService, version: str = "v2", **rules: Any) -> None:
    accepted(
        issue(service, "publish_policy", {"policy_version": version, "rules": rules}, SUPERVISOR)
    )


def brief(service: CommandService, agent: Actor, **kw: Any) -> CommandResult:
    payload = {"case_id": "c1", "brief_id": f"b{next(_briefs)}", "title": "B", "body": "b"}
    return issue(service, "create_analyst_brief", payload, agent, **kw)


def spend_run_a(service: CommandService, commands: int) -> None:
    for _ in range(commands):
        accepted(brief(service, RUN_A))


def exhausted(result: CommandResult) -> None:
    assert result.status is CommandOutcome.REJECTED
    assert result.reason_code is ReasonCode.RUN_BUDGET_EXHAUSTED


def test_a_run_over_its_budget_is_refused_while_the_agents_other_runs_go_on(
    service: CommandService,
) -> None:
    case_under_review(service)
    publish(service, run_command_budget=5)
    spend_run_a(service, 5)
    exhausted(brief(service, RUN_A))
    accepted(brief(service, RUN_B))
    exhausted(brief(service, RUN_A))


def test_a_runs_budget_holds_after_a_restart_of_the_service(
    store: EventStore, clock: FixedClock
) -> None:
    before = command_service(store, clock=clock)
    case_under_review(before)
    publish(before, run_command_budget=5)
    spend_run_a(before, 5)
    after = command_service(store, clock=clock)
    exhausted(brief(after, RUN_A))
    accepted(brief(after, RUN_B))


def test_two_services_on_one_store_share_one_runs_budget(
    store: EventStore, clock: FixedClock
) -> None:
    first, second = command_service(store, clock=clock), command_service(store, clock=clock)
    case_under_review(first)
    publish(first, run_command_budget=5)
    for service in (first, second, first, second, second):
        accepted(brief(service, RUN_A))
    exhausted(brief(first, RUN_A))
    exhausted(brief(second, RUN_A))
    accepted(brief(second, RUN_B))


def test_each_spent_unit_is_an_event_in_the_runs_budget_stream(
    service: CommandService, store: EventStore
) -> None:
    case_under_review(service)
    publish(service, run_command_budget=2)
    spend_run_a(service, 2)
    exhausted(brief(service, RUN_A, command_id="over"))
    spent = store.read_stream("runbudget-t1_run-a")
    assert [e.type for e in spent] == ["run_budget.spent"] * 2


def test_a_refused_command_spends_nothing(service: CommandService) -> None:
    case_under_review(service)
    publish(service, run_command_budget=1)
    nowhere = {"case_id": "c404", "brief_id": "b", "title": "B", "body": "b"}
    refused = issue(service, "create_analyst_brief", nowhere, RUN_A)
    assert refused.reason_code is ReasonCode.NOT_FOUND
    spend_run_a(service, 1)
    exhausted(brief(service, RUN_A))


def test_on_a_store_without_atomic_checks_a_run_still_has_its_budget() -> None:
    service = command_service(WithoutChecks())
    case_under_review(service)
    publish(service, run_command_budget=2)
    spend_run_a(service, 2)
    exhausted(brief(service, RUN_A))
    accepted(brief(service, RUN_B))


def test_a_duplicate_of_a_written_command_spends_nothing(service: CommandService) -> None:
    case_under_review(service)
    publish(service, run_command_budget=2)
    payload = {"case_id": "c1", "brief_id": "once", "title": "B", "body": "b"}
    command = envelope("create_analyst_brief", payload, RUN_A, key="k1")
    accepted(service.handle(command))
    assert service.handle(command).status is CommandOutcome.DUPLICATE_ACCEPTED
    accepted(brief(service, RUN_A))
    exhausted(brief(service, RUN_A))


def test_a_raised_budget_lets_an_exhausted_run_go_on(service: CommandService) -> None:
    case_under_review(service)
    publish(service, run_command_budget=1)
    spend_run_a(service, 1)
    exhausted(brief(service, RUN_A))
    publish(service, "v3", run_command_budget=2)
    accepted(brief(service, RUN_A))
    exhausted(brief(service, RUN_A))


def test_a_budget_raised_by_another_service_is_read_before_a_run_is_refused(
    store: EventStore, clock: FixedClock
) -> None:
    first, second = command_service(store, clock=clock), command_service(store, clock=clock)
    case_under_review(first)
    publish(first, run_command_budget=1)
    spend_run_a(first, 1)
    exhausted(brief(first, RUN_A))
    publish(second, "v3", run_command_budget=2)
    accepted(brief(first, RUN_A))


def test_the_agents_other_runs_go_on_until_its_own_rate_is_reached(
    service: CommandService, clock: FixedClock
) -> None:
    case_under_review(service)
    publish(service, run_command_budget=1, agent_commands_per_minute=3)
    accepted(brief(service, RUN_A))
    exhausted(brief(service, RUN_A))
    accepted(brief(service, RUN_B))
    limited = brief(service, RUN_C)
    assert (limited.status, limited.reason_code) == (
        CommandOutcome.REJECTED,
        ReasonCode.RATE_LIMITED,
    )
    clock.advance(timedelta(minutes=1))
    accepted(brief(service, RUN_C))


def test_schema_invalid_commands_count_against_the_agents_rate(
    service: CommandService, clock: FixedClock
) -> None:
    case_under_review(service)
    publish(service, agent_commands_per_minute=2)
    invalid = [
        issue(service, "create_analyst_brief", {"case_id": "c1"}, RUN_A),
        issue(service, "no_such_command", {}, RUN_A),
    ]
    assert [r.status for r in invalid] == [CommandOutcome.VALIDATION_ERROR] * 2
    throttled = [brief(service, RUN_B), issue(service, "no_such_command", {}, RUN_A)]
    assert [r.reason_code for r in throttled] == [ReasonCode.RATE_LIMITED] * 2
    clock.advance(timedelta(minutes=1))
    accepted(brief(service, RUN_B))


def test_the_rate_is_per_agent_and_tenant_and_users_are_not_limited(
    service: CommandService,
) -> None:
    case_under_review(service)
    case_under_review(service, tenant="t2")
    publish(service, agent_commands_per_minute=1)
    other_agent = Actor(ActorType.AGENT, "triage-bot", run_id="run-a")
    accepted(brief(service, RUN_A))
    accepted(brief(service, other_agent))
    accepted(brief(service, RUN_A, tenant="t2"))
    assert brief(service, RUN_B).reason_code is ReasonCode.RATE_LIMITED
    for _ in range(3):
        accepted(brief(service, ANALYST))


def test_the_policy_defaults_are_120_a_minute_and_1000_a_run() -> None:
    rules = PolicyRules()
    assert (rules.agent_commands_per_minute, rules.run_command_budget) == (120, 1_000)


@pytest.mark.parametrize("field", ["agent_commands_per_minute", "run_command_budget"])
@pytest.mark.parametrize("value", [0, -1, "5", 1.5, True, None, 2**70])
def test_publishing_a_budget_that_is_not_a_whole_number_from_one_is_a_validation_error(
    service: CommandService, field: str, value: object
) -> None:
    rules = {field: value}
    result = issue(service, "publish_policy", {"policy_version": "v9", "rules": rules}, SUPERVISOR)
    assert (result.status, result.reason_code) == (
        CommandOutcome.VALIDATION_ERROR,
        ReasonCode.INVALID_PAYLOAD,
    )
    assert field in (result.reason or "")


def test_a_run_id_outside_the_id_grammar_names_its_budget_stream_by_digest() -> None:
    assert budget_stream("t1", "run-1") == "runbudget-t1_run-1"
    odd = budget_stream("t1", "run 1/../x")
    assert odd.startswith("runbudget-t1_sha256.")
    assert "/" not in odd
