"""Agent budgets over real HTTP: a supervisor publishes them in the tenant's policy (a budget
outside the rule is a 422), and a run over its budget answers 403 `run_budget_exhausted` while
the same agent's other run goes on; every command an agent sends counts against its rate, bodies
that are not even an envelope included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api_client import ApiClient
from tests.support.live_service import TOKENS, Live, live_service

RUNS = """
[tokens."tok-agent-run-a"]
tenant = "t1"
actor_type = "agent"
actor_id = "risk-bot"
agent_name = "risk-bot"
run_id = "run-a"

[tokens."tok-agent-run-b"]
tenant = "t1"
actor_type = "agent"
actor_id = "risk-bot"
agent_name = "risk-bot"
run_id = "run-b"

[tokens."tok-agent-triage"]
tenant = "t1"
actor_type = "agent"
actor_id = "triage-bot"
agent_name = "triage-bot"
run_id = "run-t"
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(tmp_path_factory.mktemp("budgets"), TOKENS + RUNS) as service:
        yield service


def _publish(supervisor: ApiClient, version: str, **rules: object) -> int:
    body = {"policy_version": version, "rules": rules}
    return supervisor.command("publish_policy", body).status_code


def _brief(agent: ApiClient, brief_id: str) -> tuple[int, str | None]:
    body = {"case_id": "c1", "brief_id": brief_id, "title": "B", "body": "b"}
    answer = agent.command("create_analyst_brief", body)
    return answer.status_code, answer.json().get("reason_code")


def test_a_run_over_its_published_budget_is_refused_and_another_run_goes_on(live: Live) -> None:
    analyst, supervisor = live.client("tok-analyst-t1"), live.client("tok-supervisor-t1")
    run_a, run_b = live.client("tok-agent-run-a"), live.client("tok-agent-run-b")
    opening = {"case_id": "c1", "allegation_summary": "Unlicensed lending"}
    assert analyst.command("open_case", opening).status_code == 200
    assert analyst.command("start_case_review", {"case_id": "c1"}).status_code == 200
    assert _publish(supervisor, "v0", run_command_budget=0) == 422
    assert _publish(supervisor, "v1", agent_commands_per_minute="many") == 422
    assert _publish(supervisor, "v2", run_command_budget=2, agent_commands_per_minute=50) == 200
    assert [_brief(run_a, f"a{n}")[0] for n in range(2)] == [200, 200]
    assert _brief(run_a, "a3") == (403, "run_budget_exhausted")
    assert _brief(run_b, "b1")[0] == 200


def test_every_command_an_agent_sends_counts_against_its_rate(live: Live) -> None:
    supervisor, agent = live.client("tok-supervisor-t1"), live.client("tok-agent-triage")
    assert _publish(supervisor, "v-rate", agent_commands_per_minute=3) == 200
    unreadable = agent.post("/v1/commands", json={"not": "an envelope"})
    unknown = agent.command("no_such_command", {})
    invalid = agent.command("create_analyst_brief", {"case_id": "c1"})
    assert [r.status_code for r in (unreadable, unknown, invalid)] == [422, 422, 422]
    assert _brief(agent, "t1") == (403, "rate_limited")
