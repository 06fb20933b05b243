"""Positions of streams the views do not follow (`commandlog-`, `run-`): a refused command's
position is reached once the followed events before it are applied, and lag returns to 0."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.domain.application.ports import ANY
from caseledger.projections.catalogue import all_projections
from caseledger.projections.queries.service import QueryService, QueryStatus
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from tests.support.facts import Fact, append, opened
from tests.support.queries import summary_query


@pytest.fixture
def events(embedded_server: EmbeddedServer) -> Iterator[KurrentEventStore]:
    store = KurrentEventStore.connect(embedded_server.url)
    yield store
    store.close()


@pytest.fixture
def running(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore
) -> Iterator[ProjectionRunner]:
    projections = all_projections()
    runner = ProjectionRunner(events, sqlite_store, projections, RunnerSettings(batch_size=100))
    activate_unserved(sqlite_store, projections)
    runner.start()
    yield runner
    runner.stop()


def _refused_command_record(events: KurrentEventStore) -> int:
    fact = Fact("commandlog-t1", "commandlog.command_not_accepted", {})
    return events.append(fact.stream, [fact.new_event()], ANY).commit_position


def test_head_of_followed_categories_ignores_other_streams(events: KurrentEventStore) -> None:
    followed = append(events, opened("c1"))
    refused = _refused_command_record(events)

    assert events.head_position() == refused
    assert events.head_position(("case", "noticedraft", "policy")) == followed


def test_waiting_for_a_refused_commands_position_answers_ok_with_no_lag(
    events: KurrentEventStore, sqlite_store: SqliteProjectionStore, running: ProjectionRunner
) -> None:
    append(events, opened("c1"))
    refused = _refused_command_record(events)

    result = QueryService(sqlite_store, head=events).handle(summary_query("c1", refused))

    assert result.status == QueryStatus.OK
    assert result.data is not None
    assert result.data["freshness"]["reached"] is True
    assert result.data["freshness"]["lag"] == 0
