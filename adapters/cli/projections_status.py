"""What `caseledger projections status` reports, as one document: per view version its name,
version, build generation, state (`serving`, `building`, `stalled`; `retired` for one a
later generation or version replaced), checkpoint, `$all`'s head,
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
RETIRED: Final = "retired"
"""A generation or version a later one replaced (kept until dropped; nothing writes it)."""


def status_document(
    states: Sequence[ProjectionState],
    head: int | None,
    report: RunnerReport | None,
    lease: tuple[str | None, list[str]] = (None, []),
) -> dict[str, Any]:
    """The status as plain JSON values. `head` is None when no event store answered (then
    `head` and `lag` are null). `lease` is the runner's lease in the read store: its live
    holder (`host:pid:tag`) and standbys; without one, a runner reporting to this data dir
    while it runs is the holder."""
    alive = report is not None and report.state != "stopped" and report.alive
    stalled = alive and report is not None and report.state == STALLED
    reason = report.reason if stalled and report is not None else None
    serving = {s.name: (s.version, s.generation) for s in states if s.active}
    views = []
    for state in states:
        checkpoint = state.position
        retired = state.name in serving and (state.version, state.generation) < serving[state.name]
        views.append(
            {
                "name": state.name,
                "version": state.version,
                "generation": state.generation,
                "state": _state(state, retired, stalled),
                "serving": state.active,
                "checkpoint": checkpoint,
                "head": head,
                "lag": None if head is None else max(0, head - (checkpoint or 0)),
                "parked": state.parked,
                "stalled_reason": reason,
            }
        )
    holder: dict[str, Any] | None = None
    leased, standbys = lease
    if leased is not None:
        host, pid, _ = [*leased.split(":"), "", "", ""][:3]
        running = report.state if alive and report is not None else "running"
        holder = {"id": leased, "host": host, "pid": int(pid) if pid.isdigit() else None}
        holder["state"] = running
    elif alive and report is not None:
        holder = {"id": None, "pid": report.pid, "host": socket.gethostname()}
        holder["state"] = report.state
    return {"views": views, "head": head, "holder": holder, "standbys": standbys}


def _state(state: ProjectionState, retired: bool, stalled: bool) -> str:
    if retired:
        return RETIRED
    if stalled:
        return STALLED
    return SERVING if state.active else BUILDING
