"""Projection lag and progress as observable metrics, read when the metrics are collected.

Lag is `head - checkpoint` in `$all` positions (byte-like, not events), per projection, where
the head is the newest event of the categories the runner follows (so `commandlog-*` and other
streams it does not read never count as lag); a projection with no checkpoint yet lags by the
whole head. Each lag observation carries the runner's `state` (`running`, or `stalled` while
the read store fails, with `stalled_reason`: the failure's kind, e.g. `PostgreSQL 57P01` or
`SQLite SQLITE_BUSY`, bounded so the series stay few). Reading the runner's status and the
store's head is all it does: it never slows the runner.
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
    state: Callable[[], Mapping[str, str]] = dict,
) -> None:
    """Register the gauge `caseledger.projection.lag` (one series per projection), each
    observation with the attributes `state()` gives (the runner's state)."""

    def lag(_: CallbackOptions) -> Iterable[Observation]:
        try:
            newest = head()
        except Exception as error:  # the event store is unreachable: report nothing, say why
            log.warning("projection lag unknown: %r", error)
            return []
        shared = dict(state())
        return [
            Observation(max(0, newest - (position or 0)), {"projection": name, **shared})
            for name, position in positions().items()
        ]

    meter.create_observable_gauge(
        "caseledger.projection.lag",
        callbacks=[lag],
        unit="{position}",
        description="How far each projection's checkpoint is behind the head of $all.",
    )


def runner_state(status: RunnerStatus) -> dict[str, str]:
    """The lag's attributes: the state, and while stalled the kind of failure (the reason up
    to its first colon, e.g. `SQLite SQLITE_BUSY`)."""
    attributes = {"state": status.state}
    if status.stalled and status.stalled_reason:
        attributes["stalled_reason"] = status.stalled_reason.split(":", 1)[0][:64]
    return attributes


def observe_runner(runner: HasStatus, head: Callable[[], int], meter: Meter) -> None:
    """Lag (with the runner's state), plus events applied and parked per projection, from the
    runner's status."""
    observe_projection_lag(
        meter, head, lambda: runner.status().positions, lambda: runner_state(runner.status())
    )

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
