"""Operations for a tenant's supervisors: where each read model is, the tenant's parked events
(with retry) and the tenant's outbox messages (with retry).

Contract: nothing of another tenant is shown or touched. Parked events and outbox messages are
filtered by the tenant in their stream name (`domain.shared.streams.parse_stream`); a retry
names one of the tenant's streams or messages and is refused otherwise. A view's checkpoint and
lag are positions in `$all`, which every query answer already states (`freshness`): they name
no other tenant's data. Counts of parked events are the tenant's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from caseledger.adapters.console.services import ConsoleServices
from caseledger.adapters.integration.outbox_store import (
    OUTBOX_FILE,
    MessageStatus,
    OutboxMessage,
    SqliteOutbox,
)
from caseledger.domain.shared.actors import Role
from caseledger.domain.shared.streams import parse_stream
from caseledger.projections.catalogue import all_projections
from caseledger.projections.events import CATEGORIES
from caseledger.projections.parking import retry_parked
from caseledger.projections.ports import ParkedEvent

OPERATORS: Final = frozenset({Role.SUPERVISOR})
RECENT: Final = 20


@dataclass
class ViewStatus:
    name: str
    version: int
    generation: int
    serving: bool
    checkpoint: int | None
    lag: int | None
    parked: list[ParkedEvent]


@dataclass
class Outbox:
    present: bool
    counts: dict[str, int] = field(default_factory=dict)
    parked: list[OutboxMessage] = field(default_factory=list)
    recent: list[OutboxMessage] = field(default_factory=list)


@dataclass
class Operations:
    head: int | None
    views: list[ViewStatus]
    outbox: Outbox


def of_tenant(stream: str, tenant_id: str) -> bool:
    name = parse_stream(stream)
    return name is not None and name.tenant_id == tenant_id


def operations(services: ConsoleServices, tenant_id: str) -> Operations:
    head: int | None
    try:
        head = services.store.head_position(CATEGORIES)
    except Exception:  # the page still shows the read side; the head is "unknown"
        head = None
    views = [
        ViewStatus(
            name=state.name,
            version=state.version,
            generation=state.generation,
            serving=state.active,
            checkpoint=state.position,
            lag=None if head is None else max(0, head - (state.position or 0)),
            parked=[
                p
                for p in services.views.parked(state.projection_id)
                if of_tenant(p.stream, tenant_id)
            ],
        )
        for state in services.views.states()
    ]
    return Operations(head, views, _outbox(services, tenant_id))


def retry_stream(services: ConsoleServices, tenant_id: str, projection_id: str, stream: str) -> str:
    """Re-apply one of the tenant's streams' parked events in one view: what happened, in words."""
    if not of_tenant(stream, tenant_id):
        return "No such parked stream in your tenant."
    projection = next((p for p in all_projections() if p.id == projection_id), None)
    parked = services.views.parked(projection_id) if projection is not None else []
    if projection is None or not any(p.stream == stream for p in parked):
        return "No such parked stream in your tenant."
    services.views.prepare(projection)
    report = retry_parked(services.store, services.views, projection, stream)
    return (
        f"{projection.name}: {stream}: {report.resolved} applied, "
        f"{report.still_parked} still parked."
    )


def retry_message(services: ConsoleServices, tenant_id: str, message_id: str) -> str:
    path = services.settings.data_dir / OUTBOX_FILE
    if not path.exists():
        return "No such parked message in your tenant."
    outbox = SqliteOutbox(path)
    try:
        message = outbox.get(message_id)
        if message is None or not of_tenant(message.stream, tenant_id):
            return "No such parked message in your tenant."
        queued = outbox.request_retry(message_id)
    finally:
        outbox.close()
    if not queued:
        return "That message is not parked (any more)."
    return "Queued for the relay's next pass."


def _outbox(services: ConsoleServices, tenant_id: str) -> Outbox:
    path = services.settings.data_dir / OUTBOX_FILE
    if not path.exists():
        return Outbox(present=False)
    outbox = SqliteOutbox(path)
    try:
        return Outbox(
            present=True,
            counts=outbox.tenant_counts(tenant_id),
            parked=outbox.of_tenant(tenant_id, MessageStatus.PARKED, limit=100),
            recent=outbox.of_tenant(tenant_id, limit=RECENT),
        )
    finally:
        outbox.close()
