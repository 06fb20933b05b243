"""Bearer tokens -> principals, from a TOML file (CASELEDGER_TOKENS_FILE).

    [tokens."<secret>"]
    tenant = "t1"
    actor_type = "user"          # user | agent | system
    actor_id = "rita"
    roles = ["reviewer"]         # users only
    agent_name = "risk-bot"      # agents: optional, defaults to actor_id
    run_id = "run-1"             # agents: required

Contract: the actor and the tenant of a request come from its token, never from its body.
Secrets are kept only as sha256 digests and compared by digest.
"""

from __future__ import annotations

import hashlib
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.ids import TenantId


class TokensFileError(Exception):
    """The tokens file is missing, not TOML, or an entry is invalid: the message says which."""


class _TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: TenantId
    actor_type: ActorType
    actor_id: str = Field(min_length=1, max_length=200)
    roles: frozenset[Role] = frozenset()
    agent_name: str | None = Field(default=None, min_length=1, max_length=200)
    run_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> _TokenEntry:
        if self.actor_type is not ActorType.USER and self.roles:
            raise ValueError("only users hold roles")
        if self.actor_type is ActorType.AGENT and not self.run_id:
            raise ValueError("an agent token needs a run_id")
        if self.actor_type is not ActorType.AGENT and (self.run_id or self.agent_name):
            raise ValueError("run_id and agent_name are for agents")
        return self


@dataclass(frozen=True)
class Principal:
    """Who a token stands for: a tenant and an accountable actor."""

    tenant_id: str
    actor: Actor
    agent_name: str | None = None


class TokenRegistry:
    """Resolves bearer secrets to principals."""

    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self._by_digest = {_digest(secret): p for secret, p in principals.items()}

    @classmethod
    def from_toml(cls, path: Path) -> TokenRegistry:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise TokensFileError(f"cannot read tokens file {path}: {error}") from error
        except tomllib.TOMLDecodeError as error:
            raise TokensFileError(f"tokens file {path} is not TOML: {error}") from error
        return cls.from_document(document, str(path))

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str = "tokens") -> TokenRegistry:
        tokens = document.get("tokens", {})
        if not isinstance(tokens, dict):
            raise TokensFileError(f"{source}: [tokens] must be a table")
        principals: dict[str, Principal] = {}
        for secret, entry in tokens.items():
            if len(secret) < 8:
                raise TokensFileError(f"{source}: a token secret needs at least 8 characters")
            try:
                parsed = _TokenEntry.model_validate(entry)
            except ValidationError as error:
                shown = f"{secret[:4]}..."
                raise TokensFileError(f"{source}: token {shown!r}: {error}") from error
            principals[secret] = _principal(parsed)
        return cls(principals)

    def resolve(self, secret: str) -> Principal | None:
        return self._by_digest.get(_digest(secret))

    def resolve_digest(self, digest: bytes) -> Principal | None:
        """The principal of the secret whose sha256 digest this is (a console session keeps
        the digest, never the secret)."""
        return self._by_digest.get(digest)

    @staticmethod
    def digest(secret: str) -> bytes:
        """The sha256 digest a secret is kept (and looked up) as."""
        return _digest(secret)

    def __len__(self) -> int:
        return len(self._by_digest)


def _principal(entry: _TokenEntry) -> Principal:
    actor = Actor(type=entry.actor_type, id=entry.actor_id, roles=entry.roles, run_id=entry.run_id)
    agent_name = (entry.agent_name or entry.actor_id) if entry.run_id else None
    return Principal(tenant_id=entry.tenant, actor=actor, agent_name=agent_name)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


DEMO_ACTORS: Final[dict[str, dict[str, Any]]] = {
    "analyst": {"actor_type": "user", "actor_id": "alice", "roles": ["analyst"]},
    "reviewer": {"actor_type": "user", "actor_id": "rita", "roles": ["reviewer"]},
    "supervisor": {"actor_type": "user", "actor_id": "sam", "roles": ["supervisor"]},
    "agent": {
        "actor_type": "agent",
        "actor_id": "risk-bot",
        "agent_name": "risk-bot",
        "run_id": "demo-run-1",
    },
    "system": {"actor_type": "system", "actor_id": "notifier"},
}
"""The demo cast `serve` and `demo` hand out, one token each, all in tenant `demo`."""

DEMO_TENANT: Final = "demo"


def demo_tokens_document(tenant: str = DEMO_TENANT) -> tuple[str, dict[str, str]]:
    """A fresh demo tokens file's text, and `{role: secret}` for printing."""
    issued = {name: f"demo-{name}-{secrets.token_urlsafe(12)}" for name in DEMO_ACTORS}
    lines = ["# Demo bearer tokens written by `caseledger serve`. Not for production.", ""]
    for name, secret in issued.items():
        lines.append(f'[tokens."{secret}"]  # {name}')
        lines.append(f'tenant = "{tenant}"')
        for key, value in DEMO_ACTORS[name].items():
            if isinstance(value, list):
                lines.append(f"{key} = [{', '.join(f'{chr(34)}{v}{chr(34)}' for v in value)}]")
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    return "\n".join(lines), issued


def demo_token_names(path: Path) -> dict[str, str]:
    """`{role: secret}` of a demo tokens file written by `demo_tokens_document` (its comments)."""
    names: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith('[tokens."') and "#" in line:
            secret = line.split('"')[1]
            names[line.rsplit("#", 1)[1].strip()] = secret
    return names
