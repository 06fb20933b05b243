"""Request bodies and how they become envelopes. The body has the envelope's shape, but the
tenant and the actor (type, id, roles, run) are the token's: a body may repeat them, and one
that names anything else is refused (`IdentityRefused`, see `caseledger.adapters.claims`),
never trusted. Ids, correlation id, idempotency key and payload schema have defaults, so a
minimal body is `{"command_type": ..., "payload": {...}}`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from caseledger.adapters.claims import IdentityClaims, IdentityRefused
from caseledger.adapters.envelopes import command_envelope, query_envelope
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.envelopes import CommandEnvelope, QueryEnvelope, Token
from caseledger.domain.shared.ids import IdempotencyKey

__all__ = ["CommandRequest", "IdentityRefused", "QueryRequest"]


class CommandRequest(IdentityClaims):
    """A `CommandEnvelope` as a client sends it (identity from the token)."""

    command_id: Token | None = Field(default=None, description="Default: a fresh uuid.")
    command_type: Token
    command_version: Token = "1"
    thread_id: Token | None = None
    correlation_id: Token | None = Field(default=None, description="Default: the command id.")
    causation_id: Token | None = None
    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        description=(
            "Default: the command id (a digest of it if outside the key grammar). One command "
            "per tenant and actor across every stream: the same command again is "
            "duplicate_accepted, anything else idempotency_key_reused."
        ),
    )
    expected_aggregate_version: int | None = Field(default=None, ge=-1)
    policy_version: Token | None = None
    payload_schema: Token | None = Field(default=None, description="Default: `<command_type>.v1`.")
    payload: dict[str, Any]

    def envelope(self, principal: Principal) -> CommandEnvelope:
        self.check_against(principal)
        return command_envelope(
            principal,
            self.command_type,
            self.payload,
            command_id=self.command_id,
            command_version=self.command_version,
            thread_id=self.thread_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            idempotency_key=self.idempotency_key,
            expected_aggregate_version=self.expected_aggregate_version,
            policy_version=self.policy_version,
            payload_schema=self.payload_schema,
        )


class QueryRequest(IdentityClaims):
    """A `QueryEnvelope` as a client sends it (identity from the token)."""

    query_id: Token | None = Field(default=None, description="Default: a fresh uuid.")
    query_type: Token
    query_version: Token = "1"
    correlation_id: Token | None = Field(default=None, description="Default: the query id.")
    payload_schema: Token | None = Field(default=None, description="Default: `<query_type>.v1`.")
    payload: dict[str, Any] = Field(default_factory=dict)

    def envelope(self, principal: Principal) -> QueryEnvelope:
        self.check_against(principal)
        return query_envelope(
            principal,
            self.query_type,
            self.payload,
            query_id=self.query_id,
            query_version=self.query_version,
            correlation_id=self.correlation_id,
            payload_schema=self.payload_schema,
        )
