"""Who an agent is, bound by the server and never by a tool's arguments.

A server either has one fixed identity (its flags, or one token from the tokens file: stdio)
or takes it per HTTP request from the bearer token (`BearerAuth` sets it for the request).
Only agent principals are accepted: the tools act as an agent on a run, nothing more.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

from caseledger.adapters.tokens import Principal, TokenRegistry
from caseledger.domain.shared.actors import Actor, ActorType


class IdentityError(Exception):
    """No agent identity can be bound: the message says why (it never echoes a secret)."""


@dataclass(frozen=True)
class AgentIdentity:
    """The agent the tools act as: its tenant, its name and the run it works in."""

    tenant_id: str
    agent_name: str
    run_id: str

    @classmethod
    def of(cls, principal: Principal) -> AgentIdentity:
        actor = principal.actor
        if actor.type is not ActorType.AGENT or not actor.run_id:
            raise IdentityError(f"the token is for a {actor.type.value}; MCP tools serve agents")
        return cls(principal.tenant_id, principal.agent_name or actor.id, actor.run_id)

    def principal(self) -> Principal:
        """The agent on its run, as whom the tools issue their envelopes."""
        actor = Actor(ActorType.AGENT, self.agent_name, run_id=self.run_id)
        return Principal(self.tenant_id, actor, self.agent_name)


def new_run_id() -> str:
    """A run id for a server started without one: one run per server process."""
    return f"run-{uuid.uuid4().hex[:16]}"


def identity_for_token(tokens: TokenRegistry, secret: str) -> AgentIdentity:
    principal = tokens.resolve(secret)
    if principal is None:
        raise IdentityError("unknown token")
    return AgentIdentity.of(principal)


_request_identity: contextvars.ContextVar[AgentIdentity | None] = contextvars.ContextVar(
    "caseledger_mcp_identity", default=None
)


class IdentitySource:
    """The identity of the call in hand: the fixed one, else the request's (HTTP bearer)."""

    def __init__(self, fixed: AgentIdentity | None = None) -> None:
        self.fixed = fixed

    def current(self) -> AgentIdentity:
        if self.fixed is not None:
            return self.fixed
        identity = _request_identity.get()
        if identity is None:
            raise IdentityError("no agent identity: the session carries no valid bearer token")
        return identity

    @staticmethod
    def bind(identity: AgentIdentity) -> contextvars.Token[AgentIdentity | None]:
        """Bind `identity` to the current request (the HTTP middleware does this)."""
        return _request_identity.set(identity)

    @staticmethod
    def unbind(token: contextvars.Token[AgentIdentity | None]) -> None:
        _request_identity.reset(token)
