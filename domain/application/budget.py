"""Rate and budget limits on agents: commands per agent per window, and per run in total.
Users and the system are not budgeted here. In memory: limits restart with the process."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta
from typing import Protocol

from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.clock import Clock
from caseledger.domain.shared.reasons import ReasonCode


class CommandBudget(Protocol):
    def admit(self, tenant_id: str, actor: Actor) -> ReasonCode | None:
        """Spend one command of `actor`'s budget; the reason it is exhausted, or None."""
        ...


class AgentBudget:
    """A fixed window per (tenant, agent) and a total per (tenant, run)."""

    def __init__(
        self,
        clock: Clock,
        per_window: int = 120,
        window: timedelta = timedelta(minutes=1),
        per_run: int = 1_000,
    ) -> None:
        self._clock, self._per_window, self._window, self._per_run = (
            clock,
            per_window,
            window,
            per_run,
        )
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._runs: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    def admit(self, tenant_id: str, actor: Actor) -> ReasonCode | None:
        if not actor.is_agent:
            return None
        now = self._clock.now().timestamp()
        with self._lock:
            run = (tenant_id, actor.run_id or "")
            if self._runs[run] >= self._per_run:
                return ReasonCode.RUN_BUDGET_EXHAUSTED
            agent = (tenant_id, actor.id)
            start, count = self._windows.get(agent, (now, 0))
            if now - start >= self._window.total_seconds():
                start, count = now, 0
            if count >= self._per_window:
                return ReasonCode.RATE_LIMITED
            self._windows[agent] = (start, count + 1)
            self._runs[run] += 1
            return None
