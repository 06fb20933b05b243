"""Retrying parked events: each is read again from its stream, applied over the committed
rows, and dropped from the parked list in the same transaction; one that fails again stays
parked with its attempts counted. Runs inside the runner (between batches), so the runner's
caches never go stale."""

from __future__ import annotations

from dataclasses import dataclass

from caseledger.projections.events import decode
from caseledger.projections.ports import EventFeed, ParkedEvent, ProjectionBatch, ProjectionStore
from caseledger.projections.projection import Projection
from caseledger.projections.rows import Row, ViewChanges


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


def retry_parked(feed: EventFeed, store: ProjectionStore, projection: Projection) -> RetryReport:
    """Retry every parked event of `projection`, oldest first."""
    resolved = 0
    parked = store.parked(projection.id)
    for item in parked:
        if _retry_one(feed, store, projection, item):
            resolved += 1
    return RetryReport(resolved, len(parked) - resolved)


def _retry_one(
    feed: EventFeed, store: ProjectionStore, projection: Projection, item: ParkedEvent
) -> bool:
    found = feed.read_stream(item.stream, item.revision, 1)
    if not found or str(found[0].id) != item.event_id:
        _still_failing(store, item, "the event is no longer in its stream")
        return False
    changes = ViewChanges()
    try:
        event = decode(found[0])
        if event.type in projection.handles:
            for change in projection.apply(event, _CommittedRows(store, projection.id, changes)):
                changes.record(change)
    except Exception as error:  # still poison: it stays parked
        _still_failing(store, item, f"{type(error).__name__}: {error}")
        return False
    revisions = store.load_revisions(projection.id, [item.stream])
    revision = max(revisions.get(item.stream, -1), item.revision)
    store.resolve_parked(projection.id, item.event_id, changes, {item.stream: revision})
    return True


def _still_failing(store: ProjectionStore, item: ParkedEvent, reason: str) -> None:
    """Count the attempt; the checkpoint does not move (the batch carries the same position)."""
    position = store.checkpoint(item.projection_id)
    again = ParkedEvent(
        item.projection_id,
        item.position,
        item.event_id,
        item.stream,
        item.revision,
        item.event_type,
        reason,
        1,
    )
    if position is not None:
        store.commit([ProjectionBatch(item.projection_id, position, position, parked=[again])])
