"""Requests refused before they become a command -- a body naming another tenant, actor, roles
or run; a body that is too large or not an envelope -- recorded in the command log of the
token's tenant, as the command service records its own refusals. What is recorded is a bounded
summary (`Refusal`): who (the token's principal), the ids and type the body gave if they are
short strings, and why; never the body."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final, Protocol

from caseledger.adapters.tokens import Principal
from caseledger.domain.application.commandlog import QUERY_PREFIX, Refusal
from caseledger.domain.shared.outcomes import CommandOutcome

UNKNOWN_TYPE: Final = "(unknown)"
"""The command type recorded when the body names none that can be read."""


class RefusalLog(Protocol):
    def record_refusal(self, refusal: Refusal) -> None: ...


def refusal_of(
    principal: Principal,
    body: object,
    outcome: CommandOutcome,
    reason_code: str,
    reason: str,
    *,
    query: bool = False,
) -> Refusal:
    """The summary of a refused request `body` (the JSON sent, or anything else) by
    `principal`."""
    fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    kind = _short(fields.get("query_type" if query else "command_type")) or UNKNOWN_TYPE
    actor = principal.actor
    return Refusal(
        tenant_id=principal.tenant_id,
        actor_type=actor.type.value,
        actor_id=actor.id,
        run_id=actor.run_id,
        command_id=_short(fields.get("query_id" if query else "command_id")) or uuid.uuid4().hex,
        command_type=f"{QUERY_PREFIX}{kind}" if query else kind,
        outcome=outcome,
        reason_code=reason_code,
        reason=reason,
        idempotency_key=_short(fields.get("idempotency_key")),
        correlation_id=_short(fields.get("correlation_id")),
    )


def _short(value: object) -> str | None:
    """`value` if it is a string an envelope could hold (1..200 characters)."""
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None
