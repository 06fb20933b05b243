"""The cast of the tests: one actor per role, an agent on a run, the system."""

from __future__ import annotations

from caseledger.domain.shared.actors import Actor, ActorType, Role

ANALYST = Actor(ActorType.USER, "alice", frozenset({Role.ANALYST}))
OTHER_ANALYST = Actor(ActorType.USER, "andy", frozenset({Role.ANALYST}))
REVIEWER = Actor(ActorType.USER, "rita", frozenset({Role.REVIEWER}))
SUPERVISOR = Actor(ActorType.USER, "sam", frozenset({Role.SUPERVISOR}))
AGENT = Actor(ActorType.AGENT, "risk-bot", run_id="run-1")
SYSTEM = Actor(ActorType.SYSTEM, "notifier")
