"""Each tenant's policy in force: the last published version and its rules. The agent context
query reads it to compute allowed actions and policy notes at query time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from caseledger.projections.events import ProjectedEvent
from caseledger.projections.projection import Projection, RowLookup, put
from caseledger.projections.rows import RowChange


class TenantPoliciesProjection(Projection):
    """Rule: the last published policy is the one in force (publishing is append-only)."""

    name: ClassVar[str] = "tenant_policies"
    version: ClassVar[int] = 1
    columns: ClassVar[tuple[str, ...]] = ("policy_version",)
    handles: ClassVar[frozenset[str]] = frozenset({"policy.published"})
    categories: ClassVar[frozenset[str]] = frozenset({"policy"})

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        return [event.tenant_id]

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        tenant_id = event.tenant_id
        rules = event.payload.get("rules")
        doc = {
            "tenant_id": tenant_id,
            "policy_version": event.text("policy_version"),
            "rules": rules if isinstance(rules, dict) else {},
            "published_by": event.optional_text("published_by"),
            "supersedes": event.optional_text("supersedes"),
            "published_at": event.occurred_at,
        }
        previous = rows.get(tenant_id)
        columns = {"policy_version": event.text("policy_version")}
        return [put(event, tenant_id, doc, columns, previous)]
