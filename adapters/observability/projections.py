"""Projection lag and progress as observable metrics, read when the metrics are collected.

Lag is `head - checkpoint` in `$all` positions (byte-like, not events), per projection, where
the head is the newest event of the categories the runner follows (so `commandlog-*` and other
streams it does not read never count as lag); a projection with no checkpoint yet lags by the
whole head. Reading the runner's status and the store's head is all it does: it never slows
the runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from caseledger.projections.runner import RunnerStatus

log = logging.getLogger(__name__)


class HasStatus(Protocol):
    def status(self) -> RunnerStatus: ...


def observe_projection_lag(
    meter: Meter,
    head: Callable[[], int],
    positions: Callable[[], Mapping[str, int | None]],
) -> None:
    """Register the gauge `caseledger.projection.lag` (one series per projection)."""

    def lag(_: CallbackOptions) -> Iterable[Observation]:
        try:
            newest = head()
        except Exception as error:  # the event store is unreachable: report nothing, say why
            log.warning("projection lag unknown: %r", error)
            return []
        return [
            Observation(max(0, newest - (position or 0)), {"projection": name})
            for name, position in positions().items()
        ]

    meter.create_observable_gauge(
        "caseledger.projection.lag",
        callbacks=[lag],
        unit="{position}",
        description="How far each projection's checkpoint is behind the head of $all.",
    )


def observe_runner(runner: HasStatus, head: Callable[[], int], meter: Meter) -> None:
    """Lag, plus events applied and parked per projection, from the runner's status."""
    observe_projection_lag(meter, head, lambda: runner.status().positions)

    def counts(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            stats = runner.status().stats
            return [Observation(getattr(s, field), {"projection": n}) for n, s in stats.items()]

        return observe

    meter.create_observable_counter(
        "caseledger.projection.applied",
        callbacks=[counts("applied")],
        unit="{event}",
        description="Events applied by each projection since the runner started.",
    )
    meter.create_observable_gauge(
        "caseledger.projection.parked",
        callbacks=[counts("parked")],
        unit="{event}",
        description="Events parked by each projection (needing attention).",
    )
