"""Gathering an audit trail: the committed events of a case (its stream, its notice drafts, the
agent runs that worked on it, refused commands on them) or of a correlation, plus the side
effects the outbox relay and the notification worker recorded. Only reads.

The events come from one pass over `$all` up to the head (the store has no correlation index
here); fine for an audit, not for a hot path. An event this code cannot read is listed as
unreadable and the scan goes on: it never fails an audit, of its case or any other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from caseledger.adapters.integration.outbox_store import OUTBOX_FILE, SqliteOutbox
from caseledger.adapters.notifications.ledger import NOTIFICATIONS_FILE, DeliveryLedger
from caseledger.domain.application.codec import read_recorded
from caseledger.domain.application.ports import EventStore, RecordedEvent
from caseledger.domain.application.registry import event_registry
from caseledger.domain.shared import streams
from caseledger.domain.shared.errors import UnreadableEvent
from caseledger.domain.shared.events import EventRegistry
from caseledger.domain.shared.ids import is_aggregate_id, is_tenant_id
from caseledger.projections.audit.records import AuditEvent, SideEffect
from caseledger.projections.audit.trail import Trail, build_trail

CATEGORIES: Final = tuple(
    f"{c}-" for c in (streams.CASE, streams.NOTICE_DRAFT, streams.AGENT_RUN, streams.COMMAND_LOG)
)
SCAN_TIMEOUT: Final = 60.0


class AuditNotFound(Exception):
    """No such case or correlation for this tenant (another tenant's looks the same)."""


class AuditAmbiguous(Exception):
    """Without a tenant (operators), a case id that several tenants hold: name the tenant."""


@dataclass
class AuditService:
    events: EventStore
    outbox: SqliteOutbox | None = None
    deliveries: DeliveryLedger | None = None
    registry: EventRegistry = field(default_factory=event_registry)

    @classmethod
    def for_data_dir(cls, events: EventStore, data_dir: Path) -> AuditService:
        """With the side-effect records in `data_dir` where they exist."""
        outbox, ledger = data_dir / OUTBOX_FILE, data_dir / NOTIFICATIONS_FILE
        return cls(
            events,
            SqliteOutbox(outbox) if outbox.exists() else None,
            DeliveryLedger(ledger) if ledger.exists() else None,
        )

    def close(self) -> None:
        if self.outbox is not None:
            self.outbox.close()
        if self.deliveries is not None:
            self.deliveries.close()

    def case(self, case_id: str, tenant_id: str | None = None) -> Trail:
        """A case's trail in `tenant_id`'s stream (`case-<tenant>_<id>`); `tenant_id` None
        (operators) takes the one tenant holding that case id (AuditAmbiguous if several do).
        Raises InvalidId for ids outside the grammar."""
        streams.check_aggregate_id(case_id, "case_id")
        if tenant_id is not None:
            streams.check_tenant_id(tenant_id)
        everything = self._scan()
        holders = sorted(
            {
                name.tenant_id
                for e in everything
                if (name := streams.parse_stream(e.stream)) is not None
                and (name.category, name.aggregate_id) == (streams.CASE, case_id)
                and tenant_id in (None, name.tenant_id)
            }
        )
        if not holders:
            raise AuditNotFound(f"no case {case_id!r}")
        if len(holders) > 1:
            raise AuditAmbiguous(
                f"case {case_id!r} exists in tenants {', '.join(holders)}: name one (--tenant)"
            )
        tenant = holders[0]
        stream = streams.aggregate_stream(streams.CASE, tenant, case_id)
        mine = [e for e in everything if e.tenant_id == tenant or e.unreadable is not None]
        drafts = {
            e.stream
            for e in mine
            if e.event_type == "notice_draft.drafted" and e.payload.get("case_id") == case_id
        }
        runs = {e.run_id for e in mine if e.stream in (stream, *drafts) and e.run_id}
        runs |= {
            str(e.payload.get("run_id"))
            for e in mine
            if e.event_type == "run.started" and e.payload.get("case_id") == case_id
        }
        wanted = {stream, *drafts, *_run_streams(tenant, runs)}
        chosen = [
            e
            for e in mine
            if e.stream in wanted or (e.refused and e.payload.get("stream_id") in wanted)
        ]
        return self._trail(f"case {case_id}", tenant, chosen)

    def correlation(self, correlation_id: str, tenant_id: str | None = None) -> Trail:
        everything = self._scan()
        chosen = [
            e
            for e in everything
            if e.correlation_id == correlation_id
            and (tenant_id is None or e.tenant_id == tenant_id)
        ]
        if not chosen:
            raise AuditNotFound(f"no correlation {correlation_id!r}")
        tenants = {e.tenant_id for e in chosen}
        runs = {s for e in chosen if e.run_id for s in _run_streams(e.tenant_id, [e.run_id])}
        chosen += [
            e
            for e in everything
            if e.stream in runs and e.tenant_id in tenants and e.correlation_id != correlation_id
        ]
        return self._trail(f"correlation {correlation_id}", ",".join(sorted(tenants)), chosen)

    def _trail(self, subject: str, tenant: str, events: list[AuditEvent]) -> Trail:
        return build_trail(subject, tenant, events, self._side_effects(events))

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

    def _scan(self) -> list[AuditEvent]:
        """Every event of the audited categories, up to the head as of now."""
        head = self.events.head_position()
        if head == 0:
            return []
        found: list[AuditEvent] = []
        subscription = self.events.subscribe_all(None)
        watchdog = threading.Timer(SCAN_TIMEOUT, subscription.stop)
        watchdog.start()
        try:
            for recorded in subscription:
                if recorded.stream.startswith(CATEGORIES):
                    found.append(self._audited(recorded))
                if recorded.commit_position >= head:
                    break
        finally:
            watchdog.cancel()
            subscription.stop()
        return found


def _run_streams(tenant_id: str, run_ids: Iterable[str]) -> set[str]:
    """The streams of the runs named (an envelope's run id outside the id grammar names none)."""
    if not is_tenant_id(tenant_id):
        return set()
    return {
        streams.aggregate_stream(streams.AGENT_RUN, tenant_id, r)
        for r in run_ids
        if is_aggregate_id(r)
    }
