"""A traced command service (the stack composed with telemetry): one span per command with its
ids, outcome counters, latency, and JSON log lines carrying the same ids."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from caseledger.adapters.observability.logs import JsonFormatter
from caseledger.adapters.observability.services import TracedCommands
from caseledger.adapters.observability.setup import Telemetry
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from tests.support.actors import AGENT, ANALYST
from tests.support.commands import envelope
from tests.support.memory_store import InMemoryEventStore
from tests.support.metric_points import points
from tests.support.services import command_service


@pytest.fixture
def commands(telemetry: Telemetry) -> CommandService:
    """The command stack as bootstrap composes it with telemetry: traced outermost."""
    return command_service(InMemoryEventStore(), telemetry=telemetry)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("caseledger.commands")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)


def open_case(case_id: str = "c1", **kw: object) -> CommandEnvelope:
    payload = {"case_id": case_id, "allegation_summary": "Unlicensed lending"}
    return envelope("open_case", payload, ANALYST, **kw)  # type: ignore[arg-type]


def caused(command: CommandEnvelope, causation_id: str) -> CommandEnvelope:
    return command.model_copy(update={"causation_id": causation_id})


def test_a_command_span_carries_its_correlation_causation_and_outcome(
    commands: CommandService, spans: InMemorySpanExporter
) -> None:
    command = caused(open_case(), "req-9")

    result = commands.handle(command)

    (span,) = spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert span.name == "command open_case"
    assert attributes["caseledger.correlation_id"] == "corr-1"
    assert attributes["caseledger.causation_id"] == "req-9"
    assert attributes["caseledger.command_id"] == command.command_id
    assert attributes["caseledger.outcome"] == "accepted"
    assert attributes["caseledger.stream_id"] == "case-t1_c1"
    assert attributes["caseledger.commit_position"] == result.commit_position
    assert span.status.status_code is not StatusCode.ERROR


def test_outcomes_are_counted_and_timed_by_command_type(
    commands: CommandService, metrics: InMemoryMetricReader
) -> None:
    commands.handle(open_case())
    commands.handle(open_case())  # the case exists: rejected
    commands.handle(envelope("open_case", {"case_id": "c2"}, ANALYST))  # invalid payload

    counted = {a["outcome"]: p.value for a, p in points(metrics, "caseledger.commands")}
    assert counted == {"accepted": 1, "rejected": 1, "validation_error": 1}
    timed = points(metrics, "caseledger.command.duration")
    assert sum(p.count for _, p in timed) == 3
    assert {a["command_type"] for a, _ in timed} == {"open_case"}


def test_a_validation_error_marks_the_span_failed_but_a_refusal_does_not(
    commands: CommandService, spans: InMemorySpanExporter
) -> None:
    commands.handle(open_case())
    commands.handle(open_case())
    commands.handle(envelope("open_case", {"case_id": "c2"}, ANALYST))

    statuses = [s.status.status_code for s in spans.get_finished_spans()]
    assert statuses[1] is not StatusCode.ERROR
    assert statuses[2] is StatusCode.ERROR


def test_an_exception_is_recorded_counted_and_raised(
    telemetry: Telemetry, spans: InMemorySpanExporter, metrics: InMemoryMetricReader
) -> None:
    class Broken:
        def handle(self, envelope: CommandEnvelope) -> CommandResult:
            raise RuntimeError("store down")

    commands = TracedCommands(Broken(), telemetry.tracer, telemetry.meter)

    with pytest.raises(RuntimeError, match="store down"):
        commands.handle(open_case())

    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]
    assert [a["outcome"] for a, _ in points(metrics, "caseledger.commands")] == ["error"]


def test_log_lines_are_json_with_the_span_and_the_command_ids(
    commands: CommandService, spans: InMemorySpanExporter, log_lines: io.StringIO
) -> None:
    command = caused(envelope("propose_risk_update", {"case_id": "nope"}, AGENT), "q-1")

    commands.handle(command)

    (line,) = log_lines.getvalue().splitlines()
    entry = orjson.loads(line)
    (span,) = spans.get_finished_spans()
    assert entry["trace_id"] == format(span.context.trace_id, "032x")
    assert entry["span_id"] == format(span.context.span_id, "016x")
    assert (entry["correlation_id"], entry["causation_id"]) == ("corr-1", "q-1")
    assert (entry["command_id"], entry["run_id"]) == (command.command_id, "run-1")
    assert entry["outcome"] == "validation_error"
    assert entry["level"] == "info"


def test_logs_outside_a_command_carry_no_command_ids(log_lines: io.StringIO) -> None:
    logging.getLogger("caseledger.commands").info("idle")

    entry = orjson.loads(log_lines.getvalue())
    assert entry["message"] == "idle"
    assert "command_id" not in entry
    assert "trace_id" not in entry
