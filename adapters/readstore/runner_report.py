"""The projection runner's state where other processes can read it: a small JSON file in the
data dir. While the read store fails the store cannot say that the runner is stalled, so
`caseledger projections status` reads it from here (with the runner's pid: a report left by a
runner that is gone says so)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from caseledger.projections.runner import RunnerStatus

REPORT_FILE: Final = "projections-runner.json"


@dataclass(frozen=True)
class RunnerReport:
    state: str
    """`running`, `stalled` or `stopped`; `restarting` from a process supervising a runner
    child (`adapters.runner_process`) while none runs (it writes the report then)."""
    reason: str | None
    """While stalled: why the read store failed."""
    since: float | None
    """While stalled: since when (seconds since the epoch)."""
    pid: int
    updated_at: float

    @property
    def alive(self) -> bool:
        """The reporting runner's process still runs (on this host)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def write_report(data_dir: Path, status: RunnerStatus) -> None:
    """Replace the report with `status` (atomically: a reader never sees half of it)."""
    report = RunnerReport(
        state=status.state,
        reason=status.stalled_reason,
        since=status.stalled_since,
        pid=os.getpid(),
        updated_at=time.time(),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / REPORT_FILE
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(report)), encoding="utf-8")
    os.replace(partial, path)


def read_report(data_dir: Path) -> RunnerReport | None:
    """The last report, or None if there is none (or it cannot be read)."""
    try:
        raw = json.loads((data_dir / REPORT_FILE).read_text(encoding="utf-8"))
        return RunnerReport(
            state=str(raw["state"]),
            reason=None if raw.get("reason") is None else str(raw["reason"])[:1000],
            since=None if raw.get("since") is None else float(raw["since"]),
            pid=int(raw["pid"]),
            updated_at=float(raw["updated_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
