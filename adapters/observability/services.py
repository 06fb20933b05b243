"""Decorators for the application and query services: a span per command or query with its
correlation and causation ids, outcome counters, latency histograms, and one JSON log line.

    TracedCommands(handler, tracer, meter)    # same `handle` contract; the command stack's
                                              # outermost layer (adapters.command_stack)
    TracedQueries(QueryService(...), tracer, meter)

The wrapped service is unchanged and unaware; an exception is recorded and re-raised.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from caseledger.adapters.observability.context import bound_ids
from caseledger.domain.application.ports import CommandHandler, QueryHandler
from caseledger.domain.shared.envelopes import (
    CommandEnvelope,
    CommandResult,
    QueryEnvelope,
    QueryResult,
)
from caseledger.domain.shared.outcomes import CommandOutcome

log = logging.getLogger("caseledger.commands")
query_log = logging.getLogger("caseledger.queries")

_FAILED: Final = frozenset({CommandOutcome.VALIDATION_ERROR})
"""Outcomes that mark a span as an error (a refusal by the domain is a correct answer)."""


class TracedCommands:
    def __init__(self, inner: CommandHandler, tracer: Tracer, meter: Meter) -> None:
        self._inner = inner
        self._tracer = tracer
        self._count = meter.create_counter(
            "caseledger.commands", unit="{command}", description="Commands handled, by outcome."
        )
        self._duration = meter.create_histogram(
            "caseledger.command.duration", unit="s", description="Time to answer a command."
        )

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        ids = command_ids(envelope)
        attributes = {f"caseledger.{k}": v for k, v in ids.items() if v is not None}
        started = time.perf_counter()
        with (
            bound_ids(**ids),
            self._tracer.start_as_current_span(
                f"command {envelope.command_type}",
                kind=SpanKind.INTERNAL,
                attributes=attributes,
                record_exception=True,
            ) as span,
        ):
            try:
                result = self._inner.handle(envelope)
            except Exception:
                self._record(envelope.command_type, "error", started)
                log.exception("command failed", extra={"outcome": "error"})
                raise
            outcome = result.status.value
            span.set_attributes(result_attributes(result))
            if result.status in _FAILED:
                span.set_status(Status(StatusCode.ERROR, _code(result) or outcome))
            self._record(envelope.command_type, outcome, started)
            log.info(
                "command %s: %s",
                envelope.command_type,
                outcome,
                extra={
                    "outcome": outcome,
                    "reason_code": _code(result),
                    "stream_id": result.stream_id,
                    "stream_revision": result.stream_revision,
                    "commit_position": result.commit_position,
                },
            )
            return result

    def _record(self, command_type: str, outcome: str, started: float) -> None:
        labels = {"command_type": command_type, "outcome": outcome}
        self._count.add(1, labels)
        self._duration.record(time.perf_counter() - started, labels)


class TracedQueries:
    def __init__(self, inner: QueryHandler, tracer: Tracer, meter: Meter) -> None:
        self._inner = inner
        self._tracer = tracer
        self._count = meter.create_counter(
            "caseledger.queries", unit="{query}", description="Queries answered, by status."
        )
        self._duration = meter.create_histogram(
            "caseledger.query.duration", unit="s", description="Time to answer a query."
        )

    def handle(self, query: QueryEnvelope) -> QueryResult:
        ids = {
            "query_id": query.query_id,
            "query_type": query.query_type,
            "correlation_id": query.correlation_id,
            "tenant_id": query.tenant_id,
            "actor_type": query.requested_by_actor_type.value,
            "actor_id": query.requested_by_actor_id,
            "run_id": query.run_id,
        }
        attributes = {f"caseledger.{k}": v for k, v in ids.items() if v is not None}
        started = time.perf_counter()
        with (
            bound_ids(**ids),
            self._tracer.start_as_current_span(
                f"query {query.query_type}", attributes=attributes, record_exception=True
            ) as span,
        ):
            status = "error"
            try:
                result = self._inner.handle(query)
                status = result.status
                span.set_attribute("caseledger.status", status)
                span.set_attribute("caseledger.source_refs", len(result.source_refs))
                freshness = (result.data or {}).get("freshness") or {}
                if freshness.get("lag") is not None:
                    span.set_attribute("caseledger.view_lag", int(freshness["lag"]))
                query_log.info("query %s: %s", query.query_type, status, extra={"status": status})
                return result
            finally:
                labels = {"query_type": query.query_type, "status": status}
                self._count.add(1, labels)
                self._duration.record(time.perf_counter() - started, labels)


def command_ids(envelope: CommandEnvelope) -> dict[str, Any]:
    """The ids that tie a command to its run, its cause and its effects."""
    return {
        "command_id": envelope.command_id,
        "command_type": envelope.command_type,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "idempotency_key": envelope.idempotency_key,
        "tenant_id": envelope.tenant_id,
        "actor_type": envelope.requested_by_actor_type.value,
        "actor_id": envelope.requested_by_actor_id,
        "run_id": envelope.run_id,
        "thread_id": envelope.thread_id,
    }


def result_attributes(result: CommandResult) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "caseledger.outcome": result.status.value,
        "caseledger.events": len(result.events),
    }
    optional = {
        "caseledger.reason_code": _code(result),
        "caseledger.stream_id": result.stream_id,
        "caseledger.stream_revision": result.stream_revision,
        "caseledger.commit_position": result.commit_position,
        "caseledger.approval_request_id": result.approval_request_id,
    }
    attributes.update({k: v for k, v in optional.items() if v is not None})
    return attributes


def _code(result: CommandResult) -> str | None:
    return None if result.reason_code is None else result.reason_code.value
