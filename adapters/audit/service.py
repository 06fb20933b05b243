"""Gathering an audit trail: the committed events of a case (its stream, its notice drafts, the
agent runs that worked on it, refused commands on them) or of a correlation, plus the side
effects the outbox relay and the notification worker recorded. Only reads.

The events are found in the audit index (a view the read side keeps) and fetched by stream and
revision: no scan of `$all`. An audit that cannot be complete says so in `Trail.incomplete`:
the index behind the store (its as-of position is in the answer), an event the index names that
the store did not return, an event this code cannot read (listed as unreadable, never failing
the audit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from caseledger.adapters.audit.index import (
    AuditIndex,
    AuditViews,
    Freshness,
    IndexedEvent,
    run_streams,
)
from caseledger.adapters.integration.outbox_store import OUTBOX_FILE, SqliteOutbox
from caseledger.adapters.notifications.ledger import NOTIFICATIONS_FILE, DeliveryLedger
from caseledger.domain.application.chains import carried_link
from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.ports import EventStore, RecordedEvent, StreamRead
from caseledger.domain.application.registry import event_registry
from caseledger.domain.shared import streams
from caseledger.domain.shared.errors import UnreadableEvent
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.ids import is_aggregate_id, is_tenant_id
from caseledger.projections.audit.records import AuditEvent, SideEffect
from caseledger.projections.audit.trail import Trail, build_trail


class AuditNotFound(Exception):
    """No such case or correlation for this tenant (another tenant's looks the same)."""


class AuditAmbiguous(Exception):
    """Without a tenant (operators), a case id that several tenants hold: name the tenant."""


@dataclass
class AuditService:
    events: EventStore
    views: AuditViews
    settle_within: float = 0.0
    """How long an audit waits for the index to reach the store's head before it answers
    (incomplete, saying so, if it has not)."""
    outbox: SqliteOutbox | None = None
    deliveries: DeliveryLedger | None = None
    registry: EventRegistry = field(default_factory=event_registry)

    @classmethod
    def for_data_dir(
        cls, events: EventStore, views: AuditViews, data_dir: Path, settle_within: float = 0.0
    ) -> AuditService:
        """With the side-effect records in `data_dir` where they exist."""
        outbox, ledger = data_dir / OUTBOX_FILE, data_dir / NOTIFICATIONS_FILE
        return cls(
            events,
            views,
            settle_within,
            SqliteOutbox(outbox) if outbox.exists() else None,
            DeliveryLedger(ledger) if ledger.exists() else None,
        )

    @property
    def index(self) -> AuditIndex:
        return AuditIndex(self.views, self.events)

    def close(self) -> None:
        if self.outbox is not None:
            self.outbox.close()
        if self.deliveries is not None:
            self.deliveries.close()

    def case(self, case_id: str, tenant_id: str | None = None) -> Trail:
        """A case's trail in `tenant_id`'s stream (`case-<tenant>_<id>`): its stream, its notice
        drafts, refusals on them and the agent runs that worked on it; `tenant_id` None
        (operators) takes the one tenant holding that case id (AuditAmbiguous if several do).
        Raises InvalidId for ids outside the grammar."""
        streams.check_aggregate_id(case_id, "case_id")
        if tenant_id is not None:
            streams.check_tenant_id(tenant_id)
        fresh = self.index.settle(self.settle_within)
        candidates = (
            [tenant_id] if tenant_id is not None else self.index.tenants_holding("case_id", case_id)
        )
        held = {t: self._case_events(t, case_id) for t in candidates}
        holders = sorted(t for t, events in held.items() if events)
        if not holders:
            raise AuditNotFound(_not_found(f"no case {case_id!r}", fresh))
        if len(holders) > 1:
            raise AuditAmbiguous(
                f"case {case_id!r} exists in tenants {', '.join(holders)}: name one (--tenant)"
            )
        tenant = holders[0]
        found = held[tenant]
        found += self._runs(found)
        own = {e.stream for e in found}
        found += self.index.parked_in(sorted(own))
        return self._trail(f"case {case_id}", tenant, found, fresh)

    def correlation(self, correlation_id: str, tenant_id: str | None = None) -> Trail:
        """Everything one request caused, across streams (and tenants, for operators)."""
        fresh = self.index.settle(self.settle_within)
        holders = (
            [tenant_id]
            if tenant_id is not None
            else self.index.tenants_holding("correlation_id", correlation_id)
        )
        found = [e for t in holders for e in self.index.find(t, "correlation_id", correlation_id)]
        if not found:
            raise AuditNotFound(_not_found(f"no correlation {correlation_id!r}", fresh))
        tenants = ",".join(sorted(holders))
        subject = f"correlation {correlation_id}"
        return self._trail(subject, tenants, found + self._runs(found), fresh)

    def _case_events(self, tenant: str, case_id: str) -> list[IndexedEvent]:
        """The case's indexed events in `tenant`; none unless its own stream holds some (a
        refusal naming a case nobody opened there is no case)."""
        stream = streams.aggregate_stream(streams.CASE, tenant, case_id)
        found = self.index.find(tenant, "case_id", case_id)
        return found if any(e.stream == stream for e in found) else []

    def _runs(self, found: list[IndexedEvent]) -> list[IndexedEvent]:
        """The events of the agent runs `found` took part in (their run streams only)."""
        more: list[IndexedEvent] = []
        for tenant, run_id in sorted(run_streams(found)):
            if not (is_tenant_id(tenant) and is_aggregate_id(run_id)):
                continue
            stream = streams.aggregate_stream(streams.AGENT_RUN, tenant, run_id)
            more += [e for e in self.index.find(tenant, "run_id", run_id) if e.stream == stream]
        return more

    def _trail(
        self, subject: str, tenant: str, indexed: list[IndexedEvent], fresh: Freshness
    ) -> Trail:
        recorded, missing = self.index.fetch(indexed)
        events = [self._audited(r) for r in recorded]
        gaps = [fresh.reason()] if fresh.behind else []
        if missing:
            gaps.append(f"the index names events the store did not return: {', '.join(missing)}")
        unreadable = sum(1 for e in events if e.unreadable is not None)
        if unreadable:
            gaps.append(f"{unreadable} event(s) cannot be read by this code (listed, not read)")
        trail = build_trail(subject, tenant, events, self._side_effects(events))
        trail.incomplete = [g for g in gaps if g]
        trail.index_as_of_position = fresh.as_of_position
        trail.chain_heads = self._chain_heads(sorted({e.stream for e in events}))
        return trail

    def _chain_heads(self, names: list[str]) -> list[dict[str, Any]]:
        """Each stream's last event as the store holds it now, with the link it carries (one
        `read_streams` call)."""
        lasts = self.events.read_streams([StreamRead.last(n) for n in names]) if names else []
        return [
            {
                "stream": name,
                "revision": last[0].revision,
                "event_id": str(last[0].id),
                "link": carried_link(last[0]),
            }
            for name, last in zip(names, lasts, strict=True)
            if last
        ]

    def _side_effects(self, events: list[AuditEvent]) -> Iterable[SideEffect]:
        effects: list[SideEffect] = []
        if self.deliveries is not None:
            mine = {
                (name.tenant_id, name.aggregate_id)
                for e in events
                if (name := streams.parse_stream(e.stream)) is not None
                and name.category == streams.NOTICE_DRAFT
            }
            drafts = sorted({draft for _, draft in mine if draft is not None})
            effects += [
                SideEffect(
                    kind="smtp_delivery",
                    effect_id=d.message_id,
                    caused_by_event_id=d.request_event_id,
                    status=d.status.value,
                    attempts=d.attempts,
                    at=d.delivered_at or d.last_attempt_at,
                    detail={"draft_id": d.draft_id, "send_request_id": d.send_request_id},
                )
                for d in self.deliveries.for_drafts(drafts)
                if (d.tenant_id, d.draft_id) in mine
            ]
        if self.outbox is not None:
            effects += [
                SideEffect(
                    kind="integration_publication",
                    effect_id=m.message_id,
                    caused_by_event_id=m.message_id,
                    status=m.status.value,
                    attempts=m.attempts,
                    at=m.published_at or m.last_attempt_at,
                    detail={"contract": m.contract, "broker_seq": m.broker_seq},
                )
                for m in self.outbox.publications_for([e.event_id for e in events])
            ]
        return effects

    def _audited(self, recorded: RecordedEvent) -> AuditEvent:
        """`recorded` as the audit shows it: read as the command service reads it; one it
        cannot read is listed as unreadable (no payload, no metadata) and the scan goes on."""
        payload: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        unreadable: str | None = None
        try:
            stored = read_recorded(recorded, self.registry)
        except UnreadableEvent as error:
            unreadable = str(error)
        else:
            payload = orjson.loads(recorded.data)
            metadata = {k: v for k, v in stored.metadata.items() if isinstance(v, str)}
        return AuditEvent(
            event_id=str(recorded.id),
            event_type=recorded.type,
            stream=recorded.stream,
            revision=recorded.revision,
            position=recorded.commit_position,
            payload=payload,
            metadata=metadata,
            unreadable=unreadable,
        )


def _not_found(message: str, fresh: Freshness) -> str:
    """Not found, and why that may not be final: an index behind may not know it yet."""
    reason = fresh.reason()
    return f"{message} ({reason})" if reason else message
