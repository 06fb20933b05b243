"""Reading history for a policy what-if: the tenants and their streams from the audit index,
the streams themselves (whole) from the event store, then the domain's pure re-decision
(`caseledger.domain.application.whatif`). Only reads; never the views' current state.

The report says how complete it is: the index behind the store (streams it does not name yet
are missing), streams holding events this code cannot read (left out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from caseledger.adapters.audit.index import AuditIndex, AuditViews
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.whatif import TenantHistory, WhatIf, what_if
from caseledger.domain.application.whatif.reading import read_history
from caseledger.domain.shared import streams
from caseledger.domain.shared.policy_rules import PolicyRules


@dataclass
class WhatIfService:
    events: EventStore
    views: AuditViews
    settle_within: float = 0.0
    """How long it waits for the index to reach the store's head before it reads."""

    def run(
        self, draft: PolicyRules, tenant_id: str | None = None, since: datetime | None = None
    ) -> WhatIf:
        """`draft` against `tenant_id`'s past decisions (every tenant's for None, operators).
        Raises InvalidId for a tenant outside the grammar."""
        if tenant_id is not None:
            streams.check_tenant_id(tenant_id)
        index = AuditIndex(self.views, self.events)
        fresh = index.settle(self.settle_within)
        tenants = [tenant_id] if tenant_id is not None else index.tenants()
        histories: list[TenantHistory] = []
        unreadable: list[str] = []
        for tenant in tenants:
            read = read_history(self.events, tenant, index.streams_of(tenant))
            histories.append(read.history)
            unreadable += read.unreadable
        report = what_if(histories, draft, since)
        behind = fresh.reason()
        report.incomplete[:0] = ([behind] if behind else []) + [
            f"left out, cannot be read: {problem}" for problem in unreadable
        ]
        return report
