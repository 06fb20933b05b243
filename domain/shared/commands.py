"""What a decider receives: the command's body plus metadata from outside (time, ids, actor,
policy, facts), so `decide(command, state)` stays pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.ids import derived_uuid
from caseledger.domain.shared.policy_rules import PolicyRules


class CommandBody(BaseModel):
    """A command's payload schema; the command type names which one."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class CommandMeta:
    """Everything a decider needs that is not the payload."""

    command_id: str
    tenant_id: str
    actor: Actor
    issued_at: datetime
    policy_version: str
    policy: PolicyRules
    id_seed: uuid.UUID
    case: CaseFacts | None = None

    def new_id(self, purpose: str) -> str:
        """An id for something this command creates, e.g. `new_id("apr")`; the same command
        (same seed) always mints the same id."""
        return f"{purpose}-{derived_uuid(str(self.id_seed), purpose).hex[:20]}"


C = TypeVar("C", bound=CommandBody, covariant=True)


@dataclass(frozen=True)
class Command(Generic[C]):
    body: C
    meta: CommandMeta
