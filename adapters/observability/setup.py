"""Turning observability on: `CASELEDGER_OTEL=console|otlp` (default `off`).

    telemetry = telemetry_from(settings)        # None when off
    command_service(store, telemetry=telemetry) # commands: traced in their stack (command_stack)
    queries = instrument(app, telemetry)        # queries traced, the runner's lag observed

`otlp` exports over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (the SDK's standard variables
set endpoint, headers and service attributes); `console` writes spans and metrics to stderr
(stdout may be MCP's stdio). Either way, logs become JSON lines on stderr with the same ids.
"""

from __future__ import annotations

import atexit
import sys
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from opentelemetry import metrics, trace
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer

from caseledger.adapters.observability.logs import configure_json_logging
from caseledger.adapters.observability.projections import observe_runner
from caseledger.adapters.observability.services import TracedQueries
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import QueryHandler
from caseledger.projections.events import CATEGORIES

SCOPE: Final = "caseledger"
EXPORT_INTERVAL_MS: Final = 15_000


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    _stopped: bool = field(default=False, repr=False)

    @property
    def tracer(self) -> Tracer:
        return self.tracer_provider.get_tracer(SCOPE)

    @property
    def meter(self) -> Meter:
        return self.meter_provider.get_meter(SCOPE)

    @classmethod
    def create(
        cls,
        span_exporter: SpanExporter,
        metric_reader: MetricReader,
        *,
        batch: bool = True,
        service_name: str = "caseledger",
    ) -> Telemetry:
        resource = Resource.create({"service.name": service_name})
        tracer_provider = TracerProvider(resource=resource)
        processor = BatchSpanProcessor if batch else SimpleSpanProcessor
        tracer_provider.add_span_processor(processor(span_exporter))
        meter_provider = MeterProvider(resource=resource, metric_readers=[metric_reader])
        return cls(tracer_provider, meter_provider)

    def shutdown(self) -> None:
        """Flush and stop (once): call it before the stores close, so the last export can
        still read projection lag."""
        if self._stopped:
            return
        self._stopped = True
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def telemetry_from(settings: Settings, service_name: str = "caseledger") -> Telemetry | None:
    """The process's telemetry as the setting says (installed as the global providers, so
    libraries that trace, like the MCP SDK, join the same traces); None when off."""
    if settings.otel == "off":
        return None
    span_exporter, metric_exporter = _exporters(settings.otel)
    reader = PeriodicExportingMetricReader(
        metric_exporter, export_interval_millis=EXPORT_INTERVAL_MS
    )
    telemetry = Telemetry.create(span_exporter, reader, service_name=service_name)
    trace.set_tracer_provider(telemetry.tracer_provider)
    metrics.set_meter_provider(telemetry.meter_provider)
    configure_json_logging()
    atexit.register(telemetry.shutdown)
    return telemetry


class Wired(Protocol):
    """What `instrument` needs of the composition root's App."""

    @property
    def queries(self) -> QueryHandler: ...
    @property
    def runner(self) -> Any: ...
    @property
    def store(self) -> Any: ...


def instrument(
    wired: Wired, telemetry: Telemetry | None, *, observe_projections: bool = True
) -> QueryHandler:
    """The App's query service wrapped with `telemetry` (unchanged when None); the runner's
    lag and progress observed when `observe_projections`. The command service is traced
    inside its stack (`adapters.command_stack`, given the same telemetry)."""
    if telemetry is None:
        return wired.queries
    tracer, meter = telemetry.tracer, telemetry.meter
    if observe_projections:
        observe_runner(wired.runner, lambda: wired.store.head_position(CATEGORIES), meter)
    return TracedQueries(wired.queries, tracer, meter)


def _exporters(mode: str) -> tuple[SpanExporter, MetricExporter]:
    if mode == "console":
        return ConsoleSpanExporter(out=sys.stderr), ConsoleMetricExporter(out=sys.stderr)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(), OTLPMetricExporter()
