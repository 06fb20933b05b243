"""Traced queries, projection lag as a gauge, and the one switch that turns it all on."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from caseledger.adapters.observability.projections import observe_runner
from caseledger.adapters.observability.services import TracedCommands, TracedQueries
from caseledger.adapters.observability.setup import Telemetry, instrument, telemetry_from
from caseledger.adapters.settings import Settings
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.envelopes import QueryEnvelope, QueryResult
from caseledger.projections.runner import RunnerStatus
from caseledger.projections.track import TrackStats
from tests.support.memory_store import InMemoryEventStore
from tests.support.metric_points import points
from tests.support.services import command_service


class Answering:
    def __init__(self, lag: int | None) -> None:
        self.lag = lag

    def handle(self, query: QueryEnvelope) -> QueryResult:
        return QueryResult(
            query_id=query.query_id,
            status="ok",
            data={"case_summary": {}, "freshness": {"lag": self.lag}},
            source_refs=["case-t1_c1@0#e"],
        )


class Runner:
    def __init__(self, positions: dict[str, int | None]) -> None:
        self.positions = positions

    def status(self) -> RunnerStatus:
        return RunnerStatus(
            state="running",
            positions=self.positions,
            stats={name: TrackStats(applied=3, parked=1) for name in self.positions},
            last_error=None,
            caught_up=True,
        )


def query() -> QueryEnvelope:
    return QueryEnvelope(
        query_id="q1",
        query_type="get_case_summary",
        tenant_id="t1",
        requested_by_actor_type=ActorType.AGENT,
        requested_by_actor_id="risk-bot",
        run_id="run-1",
        correlation_id="corr-7",
        payload_schema="get_case_summary.v1",
        payload={"case_id": "c1"},
    )


def test_a_query_span_carries_its_ids_status_and_view_lag(
    telemetry: Telemetry, spans: InMemorySpanExporter, metrics: InMemoryMetricReader
) -> None:
    queries = TracedQueries(Answering(lag=42), telemetry.tracer, telemetry.meter)

    queries.handle(query())

    (span,) = spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert span.name == "query get_case_summary"
    assert attributes["caseledger.correlation_id"] == "corr-7"
    assert attributes["caseledger.run_id"] == "run-1"
    assert attributes["caseledger.status"] == "ok"
    assert attributes["caseledger.view_lag"] == 42
    assert [(a["status"], p.value) for a, p in points(metrics, "caseledger.queries")] == [("ok", 1)]


def test_projection_lag_is_the_distance_from_the_head_per_projection(
    telemetry: Telemetry, metrics: InMemoryMetricReader
) -> None:
    runner = Runner({"case_summary-v1": 900, "notice_drafts-v1": None})
    observe_runner(runner, lambda: 1000, telemetry.meter)

    lag = {a["projection"]: p.value for a, p in points(metrics, "caseledger.projection.lag")}
    assert lag == {"case_summary-v1": 100, "notice_drafts-v1": 1000}
    runner.positions["case_summary-v1"] = 1000
    lag = {a["projection"]: p.value for a, p in points(metrics, "caseledger.projection.lag")}
    assert lag["case_summary-v1"] == 0
    parked = points(metrics, "caseledger.projection.parked")
    assert {a["projection"]: p.value for a, p in parked} == {
        "case_summary-v1": 1,
        "notice_drafts-v1": 1,
    }


def test_an_unreachable_store_reports_no_lag_rather_than_failing(
    telemetry: Telemetry, metrics: InMemoryMetricReader
) -> None:
    def head() -> int:
        raise ConnectionError("down")

    observe_runner(Runner({"case_summary-v1": 5}), head, telemetry.meter)

    assert points(metrics, "caseledger.projection.lag") == []


@pytest.mark.parametrize(
    ("value", "mode"),
    [(None, "off"), ("0", "off"), ("1", "otlp"), ("on", "otlp"), ("console", "console")],
)
def test_one_setting_switches_observability(
    monkeypatch: pytest.MonkeyPatch, value: str | None, mode: str
) -> None:
    if value is None:
        monkeypatch.delenv("CASELEDGER_OTEL", raising=False)
    else:
        monkeypatch.setenv("CASELEDGER_OTEL", value)

    assert Settings().otel == mode


def test_an_unknown_exporter_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASELEDGER_OTEL", "zipkin")

    with pytest.raises(ValidationError):
        Settings()


class Wired:
    def __init__(self) -> None:
        self.settings = Settings(otel="off")
        self.queries: Any = object()
        self.runner = Runner({})
        self.store: Any = None


def test_off_means_the_services_are_used_as_they_are() -> None:
    wired = Wired()

    assert telemetry_from(wired.settings) is None
    assert instrument(wired, None) is wired.queries
    assert not isinstance(command_service(InMemoryEventStore()).handler, TracedCommands)


def test_on_means_the_services_are_wrapped(telemetry: Telemetry) -> None:
    queries = instrument(Wired(), telemetry, observe_projections=False)
    commands = command_service(InMemoryEventStore(), telemetry=telemetry)

    assert isinstance(commands.handler, TracedCommands)  # the stack's outermost decorator
    assert isinstance(queries, TracedQueries)


class StalledRunner(Runner):
    def status(self) -> RunnerStatus:
        return RunnerStatus(
            state="stalled",
            positions=self.positions,
            stats={},
            last_error=None,
            caught_up=True,
            stalled_reason="SQLite SQLITE_BUSY: database is locked",
        )


def test_the_lag_says_when_the_runner_is_stalled_and_on_what(
    telemetry: Telemetry, metrics: InMemoryMetricReader
) -> None:
    observe_runner(StalledRunner({"case_summary_v1": 400}), lambda: 1000, telemetry.meter)

    ((attributes, point),) = points(metrics, "caseledger.projection.lag")
    assert point.value == 600
    assert attributes == {
        "projection": "case_summary_v1",
        "state": "stalled",
        "stalled_reason": "SQLite SQLITE_BUSY",
    }
