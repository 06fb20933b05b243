"""Limits on agents, set by the tenant's policy (users and the system are not limited):

- `agent_commands_per_minute`: every command an agent sends in a tenant counts, schema-invalid
  ones included, in a fixed one-minute window per (tenant, agent) held in this process's memory
  (`AgentRateLimit`). With N processes serving a tenant, an agent may send up to N times the
  limit a minute (each counts what it serves), and a restart starts a new window.
- `run_command_budget`: the commands one agent run may have written in all, counted in the
  event store (`RunBudgets`), so the count holds across restarts and across every process
  serving the tenant. A command the service refuses, or a duplicate of one already written,
  spends nothing (the rate limit bounds those).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

import orjson

from caseledger.domain.application.ports import (
    NO_STREAM,
    EventStore,
    NewEvent,
    StreamRead,
    StreamWrite,
)
from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.clock import Clock
from caseledger.domain.shared.envelopes import CommandEnvelope
from caseledger.domain.shared.ids import digest_of, is_aggregate_id
from caseledger.domain.shared.streams import RUN_BUDGET, aggregate_stream

WINDOW_SECONDS: Final = 60.0
SPENT: Final = "run_budget.spent"
"""The event type of one unit of a run's budget taken by one command."""


def budget_stream(tenant_id: str, run_id: str) -> str:
    """`runbudget-<tenant>_<run>`; a run id outside the id grammar is named by its digest
    (`runbudget-<tenant>_sha256.<hex>`), never by itself."""
    name = run_id if is_aggregate_id(run_id) else f"sha256.{digest_of(run_id)[:40]}"
    return aggregate_stream(RUN_BUDGET, tenant_id, name)


class AgentRateLimit:
    """A fixed one-minute window per (tenant, agent), in this process's memory."""

    def __init__(self, clock: Clock, capacity: int = 100_000) -> None:
        self._clock, self._capacity = clock, capacity
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def admit(self, tenant_id: str, agent_id: str, per_minute: int) -> bool:
        """Count one command of the agent's; False once it sent `per_minute` this window."""
        now = self._clock.now().timestamp()
        agent = (tenant_id, agent_id)
        with self._lock:
            start, count = self._windows.get(agent, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, count = now, 0
            if count >= per_minute:
                return False
            if agent not in self._windows and len(self._windows) >= self._capacity:
                self._forget_ended(now)
            self._windows[agent] = (start, count + 1)
            return True

    def _forget_ended(self, now: float) -> None:
        """Drop the windows that ended (they count nothing any more); at capacity with none
        ended, the oldest half."""
        ended = [k for k, (start, _) in self._windows.items() if now - start >= WINDOW_SECONDS]
        for key in (
            ended or sorted(self._windows, key=lambda k: self._windows[k][0])[: self._capacity // 2]
        ):
            del self._windows[key]


class RunBudgets:
    """Each run's spent commands as events of its budget stream: the count is the stream's
    length. A unit is a write appended in one atomic step with the command's own events, at
    the count seen (an expected version), so two processes cannot both take the last one: the
    one that loses decides again on a fresh read and is refused if nothing is left. A count
    only grows, so a refusal on a count remembered from an earlier command stands unread."""

    def __init__(self, store: EventStore, capacity: int = 10_000) -> None:
        self._store, self._capacity = store, capacity
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def unit(
        self, actor: Actor, limit: int, envelope: CommandEnvelope, fresh: bool = False
    ) -> StreamWrite | None:
        """The write taking one of the `limit` commands `actor`'s run may have written, for
        `envelope` (to append with its events), or None when all are spent. `fresh`: read the
        count instead of the one remembered (after an append found it moved)."""
        stream = budget_stream(envelope.tenant_id, actor.run_id or "")
        revision = None if fresh else self._remembered(stream)
        if revision is None:
            revision = self._read(stream)
            self._remember(stream, revision)
        if revision + 1 >= limit:
            return None
        return StreamWrite(stream, [_spent(actor, envelope)], revision)

    def spend(self, unit: StreamWrite) -> None:
        """Append `unit` alone, for a store that cannot append it with the command's events
        (WrongExpectedVersion if the count moved)."""
        self._store.append(unit.stream, unit.events, unit.expected)
        self.spent(unit)

    def spent(self, unit: StreamWrite) -> None:
        """`unit` was written."""
        self._remember(unit.stream, unit.expected + len(unit.events))

    def _read(self, stream: str) -> int:
        (last,) = self._store.read_streams([StreamRead.last(stream)])
        return last[0].revision if last else NO_STREAM

    def _remembered(self, stream: str) -> int | None:
        with self._lock:
            return self._seen.get(stream)

    def _remember(self, stream: str, revision: int) -> None:
        with self._lock:
            self._seen[stream] = max(revision, self._seen.get(stream, revision))
            self._seen.move_to_end(stream)
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)


def _spent(actor: Actor, envelope: CommandEnvelope) -> NewEvent:
    """Names the command that took the unit (each field bounded by the envelope's schema)."""
    data = {
        "command_id": envelope.command_id,
        "command_type": envelope.command_type,
        "agent_id": actor.id,
        "run_id": actor.run_id,
    }
    return NewEvent(SPENT, orjson.dumps(data))
