"""Identity claims: the fields of a request only the bearer token decides (tenant, actor type,
id, roles, run). A request — an HTTP body, an MCP tool's arguments — may repeat them, never
change them: one that names anything else is refused (`IdentityRefused`), never trusted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.actors import ActorType, Role
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
        identity = IdentityClaims.model_validate(named)
    except ValidationError as error:
        if any(e["loc"][:1] == ("tenant_id",) for e in error.errors()):
            raise IdentityRefused(ReasonCode.TENANT_MISMATCH, _NOT_THE_TENANT) from None
        raise IdentityRefused(
            ReasonCode.NOT_PERMITTED, "the actor named is not the token's"
        ) from None
    identity.check_against(principal)


_NOT_THE_TENANT: Final = "tenant_id is not the tenant of the bearer token"


class IdentityClaims(BaseModel):
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
