"""Command envelopes for service tests, and a desk that issues them as a given actor."""

from __future__ import annotations

import itertools
from typing import Any

from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from tests.support.builders import TENANT

_numbers = itertools.count(1)


def envelope(
    command_type: str,
    payload: dict[str, Any],
    actor: Actor,
    *,
    key: str | None = None,
    expected: int | None = None,
    tenant: str = TENANT,
    command_id: str | None = None,
    policy_version: str | None = None,
) -> CommandEnvelope:
    command_id = command_id or f"cmd-{next(_numbers)}"
    return CommandEnvelope(
        command_id=command_id,
        command_type=command_type,
        tenant_id=tenant,
        requested_by_actor_type=actor.type,
        requested_by_actor_id=actor.id,
        requested_by_roles=actor.roles,
        run_id=actor.run_id,
        correlation_id="corr-1",
        idempotency_key=key or command_id,
        expected_aggregate_version=expected,
        policy_version=policy_version,
        payload_schema=f"{command_type}.v1",
        payload=payload,
    )


def issue(
    service: CommandService, command_type: str, payload: dict[str, Any], actor: Actor, **kw: Any
) -> CommandResult:
    return service.handle(envelope(command_type, payload, actor, **kw))
