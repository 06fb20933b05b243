from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from caseledger.adapters.observability.setup import Telemetry


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def metrics() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter, metrics: InMemoryMetricReader) -> Iterator[Telemetry]:
    """Local providers (never the global ones), spans exported as they end."""
    telemetry = Telemetry.create(spans, metrics, batch=False)
    yield telemetry
    telemetry.shutdown()
