"""The command service for tests: the stack the composition root builds, through the same
function (`adapters.command_stack.command_service`), so a test never runs another stack than
production. Tests replace parts by keyword (`clock`, `ids`, `snapshot_every`, `max_attempts`,
`background`, `rate_limit`, `telemetry`, ...); what they do not name is production's."""

from __future__ import annotations

from typing import Any

from caseledger.adapters.command_stack import command_service as compose_command_service
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.service import CommandService


def command_service(store: EventStore, **overrides: Any) -> CommandService:
    """The command service on `store`, composed as `bootstrap` composes it."""
    return compose_command_service(store, **overrides)
