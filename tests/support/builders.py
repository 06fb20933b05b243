"""Builders for command metadata: fixed time, seeded ids, default policy unless told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TypeVar

from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.commands import Command, CommandBody, CommandMeta
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.policy_rules import DEFAULT_POLICY_VERSION, DEFAULT_RULES, PolicyRules
from tests.support.actors import ANALYST

TENANT = "t1"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def meta(
    actor: Actor = ANALYST,
    *,
    seed: str = "cmd-1",
    policy: PolicyRules = DEFAULT_RULES,
    policy_version: str = DEFAULT_POLICY_VERSION,
    case: CaseFacts | None = None,
    tenant_id: str = TENANT,
) -> CommandMeta:
    return CommandMeta(
        command_id=seed,
        tenant_id=tenant_id,
        actor=actor,
        issued_at=NOW,
        policy_version=policy_version,
        policy=policy,
        id_seed=uuid.uuid5(uuid.NAMESPACE_URL, seed),
        case=case,
    )


B = TypeVar("B", bound=CommandBody)


def command(body: B, command_meta: CommandMeta | None = None) -> Command[B]:
    return Command(body=body, meta=command_meta or meta())


def active_case(
    case_id: str = "c1", tenant_id: str = TENANT, status: str = "under_review"
) -> CaseFacts:
    return CaseFacts(
        case_id=case_id,
        tenant_id=tenant_id,
        status=status,
        active=status in {"opened", "under_review", "escalated"},
        revision=3,
    )
