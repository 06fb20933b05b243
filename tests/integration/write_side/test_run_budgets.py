"""A run's budget on the real store: it holds after the store itself restarts on its data dir,
and services racing on one store never take more than the run's budget between them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.desk import accepted, case_under_review
from tests.support.services import command_service
from tests.support.stores import embedded_store, kurrent_store
from tests.unit.application.test_agent_budgets import (
    RUN_A,
    RUN_B,
    brief,
    exhausted,
    publish,
    spend_run_a,
)


def test_a_runs_budget_holds_after_the_store_restarted(tmp_path: Path) -> None:
    data_dir = tmp_path / "eventstore"
    data_dir.mkdir()
    with embedded_store(data_dir) as server, kurrent_store(server) as store:
        service = command_service(store)
        case_under_review(service)
        publish(service, run_command_budget=5)
        spend_run_a(service, 5)
    with embedded_store(data_dir) as server, kurrent_store(server) as store:
        service = command_service(store)
        exhausted(brief(service, RUN_A))
        accepted(brief(service, RUN_B))


def test_services_racing_on_one_store_take_exactly_the_runs_budget(
    server: EmbeddedServer,
) -> None:
    with kurrent_store(server) as one, kurrent_store(server) as other:
        services = [command_service(one), command_service(other)]
        case_under_review(services[0])
        publish(services[0], run_command_budget=5)
        with ThreadPoolExecutor(max_workers=6) as pool:
            raced = list(pool.map(lambda n: brief(services[n % 2], RUN_A), range(12)))
        written = [r for r in raced if r.status is CommandOutcome.ACCEPTED]
        others = {r.reason_code for r in raced if r not in written}
        assert others <= {ReasonCode.RUN_BUDGET_EXHAUSTED, ReasonCode.CONCURRENT_WRITE}
        while len(written) < 5:  # units a command that lost every race left
            written.append(accepted(brief(services[0], RUN_A)))
        exhausted(brief(services[1], RUN_A))
        spent = one.read_stream("runbudget-t1_run-a")
    assert len(spent) == len(written) == 5
    assert {orjson.loads(e.data)["command_id"] for e in spent} == {r.command_id for r in written}
