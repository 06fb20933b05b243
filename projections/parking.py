"""Retrying parked events, stream by stream, in revision order.

Rule: a view never skips, reorders or goes backwards. A retry of a stream reads it again from
the revision after the last one the view applied, up to the view's checkpoint (later events
come through the feed as usual), and applies the events in revision order over the committed
rows: the parked ones and the ones waiting behind them. It stops at the first event that fails
again, which stays parked with its attempts counted (the events after it wait behind it). What
was applied, the stream's new revision and the parked list change in one transaction, built on
the checkpoint the retry read (`ProjectionStore.resolve_parked`): if the runner committed in
between, the retry reads again. The transaction moves the view's retry generation, so a runner
(in this process or another) that built a batch on the old rows rebuilds it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Final

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.events import decode
from caseledger.projections.ports import (
    IN_ORDER,
    WAITING_BEHIND,
    CheckpointConflict,
    EventFeed,
    ParkedEvent,
    ProjectionStore,
    ReadStoreUnavailable,
)
from caseledger.projections.projection import Projection
from caseledger.projections.rows import Row, ViewChanges

log = logging.getLogger(__name__)

_OVERTAKEN: Final = 50
"""Tries of one stream's retry that a committing runner may overtake before it gives up."""


@dataclass(frozen=True)
class RetryReport:
    resolved: int
    still_parked: int


class _CommittedRows:
    def __init__(self, store: ProjectionStore, projection_id: str, changes: ViewChanges) -> None:
        self._store = store
        self._id = projection_id
        self._changes = changes

    def get(self, key: str) -> Row | None:
        if key in self._changes.rows:
            return self._changes.rows[key]
        return self._store.load_rows(self._id, [key]).get(key)


@dataclass
class _Replay:
    """One stream's retry as it goes: the changes, the last revision applied, what failed."""

    applied: int
    changes: ViewChanges
    resolved: list[str]
    failed: ParkedEvent | None = None


def retry_parked(
    feed: EventFeed, store: ProjectionStore, projection: Projection, stream: str | None = None
) -> RetryReport:
    """Retry the parked events of `projection` (of `stream` only, if given), each stream's in
    revision order, streams in the order their first event was parked."""
    streams = list(dict.fromkeys(p.stream for p in store.parked(projection.id)))
    resolved = 0
    for name in streams:
        if stream is None or name == stream:
            resolved += _retry_stream(feed, store, projection, name)
    remaining = [p for p in store.parked(projection.id) if stream is None or p.stream == stream]
    return RetryReport(resolved, len(remaining))


def _retry_stream(
    feed: EventFeed, store: ProjectionStore, projection: Projection, stream: str
) -> int:
    """The number of parked events of `stream` applied (redone if the runner moved on; after
    `_OVERTAKEN` tries in a row it gives up, leaving the events parked for the next retry)."""
    for _ in range(_OVERTAKEN):
        position = store.checkpoint(projection.id)
        parked = {p.event_id: p for p in store.parked(projection.id) if p.stream == stream}
        if not parked or position is None:
            return 0
        applied = store.load_revisions(projection.id, [stream]).get(stream, -1)
        seen = [e for e in feed.read_stream(stream, applied + 1) if e.commit_position <= position]
        replay = _replay(store, projection, stream, applied, seen, parked)
        still = _still_parked(replay, parked)
        revisions = {stream: replay.applied} if replay.applied > applied else {}
        try:
            store.resolve_parked(
                projection.id, position, replay.changes, revisions, replay.resolved, still
            )
        except CheckpointConflict:  # the runner committed meanwhile: read everything again
            continue
        return len(replay.resolved)
    log.warning("retrying %s of %s: the runner kept committing first", stream, projection.id)
    return 0


def _replay(
    store: ProjectionStore,
    projection: Projection,
    stream: str,
    applied: int,
    events: list[RecordedEvent],
    parked: dict[str, ParkedEvent],
) -> _Replay:
    replay = _Replay(applied, ViewChanges(), [])
    rows = _CommittedRows(store, projection.id, replay.changes)
    first = min(parked.values(), key=lambda p: p.revision)
    if first.revision <= applied:  # parked by a runner that did not keep order: cannot fit in
        why = f"{projection.id} applied later events of {stream} before it (rebuild the view)"
        replay.failed = replace(first, reason=why, attempts=1)
        return replay
    if not events or events[0].revision != applied + 1:
        found = "nothing" if not events else f"revision {events[0].revision}"
        why = f"{stream} holds {found} after revision {applied}, the last this view applied"
        replay.failed = replace(first, reason=why, attempts=1)
        return replay
    for recorded in events:
        reason = _apply(projection, recorded, rows, replay.changes)
        if reason is not None:
            event_id = str(recorded.id)
            known = parked.get(event_id)
            replay.failed = (
                replace(known, reason=reason, attempts=1)
                if known is not None
                else _new_parked(projection, recorded, reason)
            )
            return replay
        replay.applied = recorded.revision
        if str(recorded.id) in parked:
            replay.resolved.append(str(recorded.id))
    return replay


def _apply(
    projection: Projection, recorded: RecordedEvent, rows: _CommittedRows, changes: ViewChanges
) -> str | None:
    """Why `recorded` cannot be applied, or None once its changes are recorded."""
    try:
        event = decode(recorded)
        if event.type in projection.handles:
            for change in projection.apply(event, rows):
                changes.record(change)
        elif event.type not in projection.ignores:
            return f"unknown event type {event.type[:200]!r}: {projection.name} does not know it"
    except ReadStoreUnavailable:
        raise
    except Exception as error:  # still poison: it stays parked
        return f"{type(error).__name__}: {error}"[:1000]
    return None


def _still_parked(replay: _Replay, parked: dict[str, ParkedEvent]) -> list[ParkedEvent]:
    """The event that failed again (attempt counted) and the ones now waiting behind it."""
    if replay.failed is None:
        return []
    head = replay.failed
    waiting = f"{WAITING_BEHIND}{head.stream}@{head.revision} {IN_ORDER}"
    behind = [
        replace(p, reason=waiting, attempts=0)
        for p in parked.values()
        if p.revision > head.revision and p.event_id not in replay.resolved
    ]
    return [head, *behind]


def _new_parked(projection: Projection, recorded: RecordedEvent, reason: str) -> ParkedEvent:
    return ParkedEvent(
        projection_id=projection.id,
        position=recorded.commit_position,
        event_id=str(recorded.id),
        stream=recorded.stream,
        revision=recorded.revision,
        event_type=recorded.type,
        reason=reason,
        attempts=1,
    )
