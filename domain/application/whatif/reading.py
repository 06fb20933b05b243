"""Reading one tenant's history for a what-if through the EventStore port: its policy stream,
the case and notice draft streams named (each whole) and its command log, in one read round
trip. A stream holding an event this code cannot read is left out and named, never mis-read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from caseledger.domain.application.codec import StoredEvent, read_recorded
from caseledger.domain.application.commandlog import commandlog_stream
from caseledger.domain.application.ports import EventStore, StreamRead
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.whatif.report import TenantHistory
from caseledger.domain.shared import streams
from caseledger.domain.shared.errors import UnreadableEvent
from caseledger.domain.shared.events import EventRegistry

DECIDED: frozenset[str] = frozenset({streams.CASE, streams.NOTICE_DRAFT})
"""The categories whose commands a what-if re-decides."""


@dataclass(frozen=True)
class Read:
    history: TenantHistory
    unreadable: list[str] = field(default_factory=list)
    """Why streams were left out (`stream@revision cannot be read: ...`)."""


def read_history(
    store: EventStore,
    tenant_id: str,
    names: Sequence[str],
    registry: EventRegistry | None = None,
) -> Read:
    """`tenant_id`'s history: the streams `names` of the decided categories and this tenant
    (others are ignored), its policy and its command log. Only reads."""
    registry = registry or event_registry()
    policy = streams.tenant_stream(streams.POLICY, tenant_id)
    log = commandlog_stream(tenant_id)
    decided = sorted({n for n in names if _decided(n, tenant_id)})
    wanted = [policy, log, *decided]
    answers = store.read_streams([StreamRead(name) for name in wanted])
    unreadable: list[str] = []
    read: list[list[StoredEvent]] = []
    for answer in answers:
        try:
            read.append([read_recorded(recorded, registry) for recorded in answer])
        except UnreadableEvent as error:
            unreadable.append(str(error))
            read.append([])
    history = TenantHistory(tenant_id, read[0], [r for r in read[2:] if r], read[1])
    return Read(history, unreadable)


def _decided(name: str, tenant_id: str) -> bool:
    parsed = streams.parse_stream(name)
    return parsed is not None and parsed.tenant_id == tenant_id and parsed.category in DECIDED
