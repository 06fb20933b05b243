"""The leases of this process's engines (the rule is the engine's: `projections.lease`): their
names, who this process is as a holder, and the times from the settings."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from typing import Final

from caseledger.adapters.settings import Settings
from caseledger.projections import lease
from caseledger.projections.lease import LeaseStore, LeaseTimes

__all__ = ["RELAY_LEASE", "RUNNER_LEASE", "LeaseStore", "LeaseTimes", "LeasedWork", "holder_id"]

RUNNER_LEASE: Final = "projection-runner"
RELAY_LEASE: Final = "outbox-relay"


def holder_id() -> str:
    """This process, as status shows it: `host:pid:random` (unique across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def lease_times(settings: Settings) -> LeaseTimes:
    """CASELEDGER_LEASE_SECONDS and CASELEDGER_LEASE_RENEW_SECONDS."""
    return LeaseTimes(settings.lease_seconds, settings.lease_renew_seconds)


class LeasedWork(lease.LeasedWork):
    """The engine's `LeasedWork`, held by this process (`holder_id`) unless told otherwise."""

    def __init__(
        self,
        store: LeaseStore,
        name: str,
        start: Callable[[], object],
        stop: Callable[[], None],
        times: LeaseTimes | None = None,
        holder: str | None = None,
    ) -> None:
        super().__init__(store, name, start, stop, times or LeaseTimes(), holder or holder_id())
