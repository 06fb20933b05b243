"""Request bodies and how they become envelopes. The body has the envelope's shape, but the
tenant and the actor (type, id, roles, run) are the token's: a body may repeat them, and one
that names anything else is refused (`IdentityRefused`), never trusted. Ids, correlation id,
idempotency key and payload schema have defaults, so a minimal body is
`{"command_type": ..., "payload": {...}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from caseledger.adapters.envelopes import command_envelope, query_envelope
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.actors import ActorType, Role
from caseledger.domain.shared.envelopes import CommandEnvelope, QueryEnvelope, Token
from caseledger.domain.shared.ids import IdempotencyKey
from caseledger.domain.shared.reasons import ReasonCode


class IdentityRefused(Exception):
    """The body names another tenant or actor than the token."""

    def __init__(self, reason: ReasonCode, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


IDENTITY_FIELDS: Final = (
    "tenant_id",
    "requested_by_actor_type",
    "requested_by_actor_id",
    "requested_by_roles",
    "run_id",
)
"""Fields only a token decides: a request may repeat them, never change them."""


def check_identity(claims: Mapping[str, Any], principal: Principal) -> None:
    """Raise `IdentityRefused` if `claims` (e.g. MCP tool arguments) name another tenant or
    actor than `principal` in any of `IDENTITY_FIELDS`, as a body would."""
    named = {k: v for k, v in claims.items() if k in IDENTITY_FIELDS}
    try:
        identity = _Identity.model_validate(named)
    except ValidationError as error:
        if any(e["loc"][:1] == ("tenant_id",) for e in error.errors()):
            raise IdentityRefused(ReasonCode.TENANT_MISMATCH, _NOT_THE_TENANT) from None
        raise IdentityRefused(
            ReasonCode.NOT_PERMITTED, "the actor named is not the token's"
        ) from None
    identity.check_against(principal)


_NOT_THE_TENANT: Final = "tenant_id is not the tenant of the bearer token"


class _Identity(BaseModel):
    """Fields the token decides; a body may only repeat them."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = Field(default=None, description="Must be the token's, if given.")
    requested_by_actor_type: ActorType | None = Field(
        default=None, description="Must be the token's, if given."
    )
    requested_by_actor_id: str | None = Field(
        default=None, description="Must be the token's, if given."
    )
    requested_by_roles: frozenset[Role] | None = Field(
        default=None, description="Must be the token's, if given."
    )
    run_id: str | None = Field(default=None, description="Must be the token's, if given.")

    def check_against(self, principal: Principal) -> None:
        actor = principal.actor
        if self.tenant_id is not None and self.tenant_id != principal.tenant_id:
            raise IdentityRefused(ReasonCode.TENANT_MISMATCH, _NOT_THE_TENANT)
        claims = (
            ("requested_by_actor_type", self.requested_by_actor_type, actor.type),
            ("requested_by_actor_id", self.requested_by_actor_id, actor.id),
            ("requested_by_roles", self.requested_by_roles, actor.roles),
            ("run_id", self.run_id, actor.run_id),
        )
        for name, claimed, actual in claims:
            if claimed is not None and claimed != actual:
                raise IdentityRefused(ReasonCode.NOT_PERMITTED, f"{name} is not the bearer token's")


class CommandRequest(_Identity):
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


class QueryRequest(_Identity):
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
