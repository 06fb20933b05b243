"""Replay for audits: an aggregate's state at a revision and its history with metadata.
Replay only reads; it never writes. It folds the stream's events themselves and never reads a
snapshot (`snapshot-<stream>` is the command service's cache; auditors must not depend on it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from caseledger.domain.application.aggregates import AGGREGATES, Aggregate
from caseledger.domain.application.codec import StoredEvent, envelope_of
from caseledger.domain.application.loading import load
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.registry import event_registry
from caseledger.domain.shared.envelopes import EventEnvelope
from caseledger.domain.shared.errors import UnreadableEvent
from caseledger.domain.shared.events import EventRegistry


@dataclass(frozen=True)
class Replay:
    aggregate: str
    stream: str
    revision: int
    """The last revision folded; -1 when the stream does not exist."""
    state: Any
    history: list[EventEnvelope]


def replay(
    store: EventStore,
    aggregate: str,
    tenant_id: str,
    aggregate_id: str,
    as_of_revision: int | None = None,
    registry: EventRegistry | None = None,
) -> Replay:
    """`aggregate` is `case`, `notice_draft`, `agent_run` or `policy` (whose id is the tenant),
    always of one tenant. Raises `InvalidId` for an id outside the grammar, and
    `UnreadableEvent` (naming stream and revision) rather than show a history it cannot read."""
    kind: Aggregate[Any] | None = AGGREGATES.get(aggregate)
    if kind is None:
        raise ValueError(f"no aggregate {aggregate!r}; one of {sorted(AGGREGATES)}")
    stream = kind.stream(tenant_id, aggregate_id)
    loaded, history = load(store, registry or event_registry(), kind, stream, as_of_revision)
    return Replay(
        aggregate=aggregate,
        stream=stream,
        revision=loaded.revision,
        state=loaded.state,
        history=[_shown(stored) for stored in history],
    )


def _shown(stored: StoredEvent) -> EventEnvelope:
    """The event as a history shows it; metadata without a readable `occurredAt` (or other
    provenance it needs) makes the event unreadable, as for a command."""
    try:
        return envelope_of(stored)
    except (KeyError, ValueError, TypeError) as error:
        rec = stored.recorded
        problem = f"its metadata lacks valid provenance ({type(error).__name__})"
        raise UnreadableEvent(rec.stream, rec.revision, problem) from None


def replay_document(result: Replay) -> dict[str, Any]:
    """`result` as JSON-ready data (for `--json` output): sets become sorted lists."""
    return {
        "aggregate": result.aggregate,
        "stream": result.stream,
        "revision": result.revision,
        "state": _plain(result.state),
        "history": [event.model_dump(mode="json") for event in result.history],
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, AbstractSet):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value
