"""Every event type the write side stores, by stable name."""

from __future__ import annotations

from caseledger.domain.agent_run.events import AGENT_RUN_EVENTS
from caseledger.domain.application.commandlog import CommandNotAccepted
from caseledger.domain.case.events import CASE_EVENTS
from caseledger.domain.notice_draft.events import NOTICE_DRAFT_EVENTS
from caseledger.domain.policy.events import POLICY_EVENTS
from caseledger.domain.shared.events import EventRegistry


def event_registry() -> EventRegistry:
    """A registry of all write-side events (upcasters are registered here when a schema moves)."""
    return EventRegistry(
        [
            *CASE_EVENTS,
            *NOTICE_DRAFT_EVENTS,
            *POLICY_EVENTS,
            CommandNotAccepted,
            *AGENT_RUN_EVENTS,
        ]
    )
