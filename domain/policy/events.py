"""Policy events."""

from __future__ import annotations

from typing import Any, Final

from caseledger.domain.shared.events import DomainEvent


class PolicyPublished(DomainEvent):
    event_type = "policy.published"
    tenant_id: str
    policy_version: str
    rules: dict[str, Any]
    published_by: str
    supersedes: str


POLICY_EVENTS: Final[tuple[type[DomainEvent], ...]] = (PolicyPublished,)
