"""Command and query envelopes issued as a principal: the one place every entry point (HTTP,
MCP, CLI) builds them.

Contract: the tenant, the actor (type, id, roles) and the run are the principal's — never the
caller's. Ids default to a fresh uuid; correlation id and idempotency key default to the
command's (or query's) id (a command id outside the key grammar gives the key `cmd-<its
sha256>`, so the same command id is still the same key); the payload schema defaults to
`<type>.v1`. An invalid field raises pydantic's `ValidationError`, as the envelope itself does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.envelopes import CommandEnvelope, QueryEnvelope
from caseledger.domain.shared.ids import digest_of, is_idempotency_key


def command_envelope(
    principal: Principal,
    command_type: str,
    payload: Mapping[str, Any],
    *,
    command_id: str | None = None,
    command_version: str = "1",
    idempotency_key: str | None = None,
    expected_aggregate_version: int | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    thread_id: str | None = None,
    policy_version: str | None = None,
    payload_schema: str | None = None,
) -> CommandEnvelope:
    """A command issued as `principal`."""
    command_id = command_id or uuid.uuid4().hex
    return CommandEnvelope(
        **_issued_by(principal),
        command_id=command_id,
        command_type=command_type,
        command_version=command_version,
        thread_id=thread_id,
        correlation_id=correlation_id or command_id,
        causation_id=causation_id,
        idempotency_key=idempotency_key or default_key(command_id),
        expected_aggregate_version=expected_aggregate_version,
        policy_version=policy_version,
        payload_schema=payload_schema or f"{command_type}.v1",
        payload=dict(payload),
    )


def default_key(command_id: str) -> str:
    """The idempotency key of a command sent without one: its id, if inside the key grammar."""
    return command_id if is_idempotency_key(command_id) else f"cmd-{digest_of(command_id)}"


def query_envelope(
    principal: Principal,
    query_type: str,
    payload: Mapping[str, Any],
    *,
    query_id: str | None = None,
    query_version: str = "1",
    correlation_id: str | None = None,
    payload_schema: str | None = None,
) -> QueryEnvelope:
    """A query asked as `principal`."""
    query_id = query_id or uuid.uuid4().hex
    return QueryEnvelope(
        **_issued_by(principal),
        query_id=query_id,
        query_type=query_type,
        query_version=query_version,
        correlation_id=correlation_id or query_id,
        payload_schema=payload_schema or f"{query_type}.v1",
        payload=dict(payload),
    )


def _issued_by(principal: Principal) -> dict[str, Any]:
    """The fields the principal decides, in either envelope."""
    actor = principal.actor
    return {
        "tenant_id": principal.tenant_id,
        "requested_by_actor_type": actor.type,
        "requested_by_actor_id": actor.id,
        "requested_by_roles": actor.roles,
        "run_id": actor.run_id,
    }
