"""What `caseledger projections status` reports, as one document: per view version its name,
version, build generation, state (`serving`, `building`, `stalled`), checkpoint, `$all`'s head,
lag and parked events (with the stall's reason), and the runner's holder and standbys. The
table and `--json` show the same document."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Final

from caseledger.adapters.readstore.runner_report import RunnerReport
from caseledger.projections.ports import ProjectionState
from caseledger.projections.runner import STALLED

SERVING: Final = "serving"
BUILDING: Final = "building"
FIRST_GENERATION: Final = 1
"""A version's first build; each in-place rebuild of the same version is the next one."""


def status_document(
    states: Sequence[ProjectionState],
    head: int | None,
    report: RunnerReport | None,
) -> dict[str, Any]:
    """The status as plain JSON values. `head` is None when no event store answered (then
    `head` and `lag` are null); a runner report from a process that is gone names no holder."""
    alive = report is not None and report.state != "stopped" and report.alive
    stalled = alive and report is not None and report.state == STALLED
    reason = report.reason if stalled and report is not None else None
    views = []
    for state in states:
        checkpoint = state.position
        views.append(
            {
                "name": state.name,
                "version": state.version,
                "generation": FIRST_GENERATION,
                "state": STALLED if stalled else SERVING if state.active else BUILDING,
                "serving": state.active,
                "checkpoint": checkpoint,
                "head": head,
                "lag": None if head is None else max(0, head - (checkpoint or 0)),
                "parked": state.parked,
                "stalled_reason": reason,
            }
        )
    holder = None
    if alive and report is not None:
        holder = {"pid": report.pid, "host": socket.gethostname(), "state": report.state}
    return {"views": views, "head": head, "holder": holder, "standbys": []}
