"""One projection's progress inside a runner: its committed checkpoint, cached rows and stream
revisions, and the batch being built on top of them.

Before a batch is built, the rows and stream revisions it will read are loaded from the store
in one query each (`prefetch`); they are kept only while the batch is built and committed.
Between batches only a small least-recently-used cache stays, so the runner's memory does not
grow with the log: every stream's revision lives in the store, not in the runner.

While a batch is being committed (`launched`) the next one is built on top of it: its rows and
revisions are what the next batch sees first, ahead of the cache and the store (which does not
have them yet), until it is `committed`. If its commit fails, `reload` forgets all of it.

Per event, in order: an event at or behind the checkpoint is a duplicate delivery (skipped);
a stream revision at or below the last one applied is a duplicate (skipped); a revision past
the next expected one waits behind its stream's parked event (parked, marked `waiting behind
<stream>@<revision>`), or, if none is parked, is an out-of-order gap (parked, seed §20); an
event that cannot be decoded, is of a type the projection neither handles nor ignores, or
cannot be applied after the retries is parked. A parked event is recorded with the batch, so
the checkpoint never passes an event silently.

Rule (order under parking): a stream's revision for a view is the last one **applied**. A
parked event does not move it, so every later event of that stream parks behind it, while
other streams go on; a retry re-applies them in revision order (`parking.retry_parked`). A
view never skips, reorders or goes backwards. The read store's own failures
(`ReadStoreUnavailable`) are never an event's fault: they go up to the runner, which stalls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from caseledger.projections.cache import BoundedCache
from caseledger.projections.events import ProjectedEvent, UndecodableEvent
from caseledger.projections.ports import (
    IN_ORDER,
    WAITING_BEHIND,
    ParkedEvent,
    ProjectionBatch,
    ProjectionStore,
    ReadStoreUnavailable,
)
from caseledger.projections.projection import Projection
from caseledger.projections.retry import RetryPolicy
from caseledger.projections.rows import Row, ViewChanges

Decoded = tuple[ProjectedEvent, str | None]
"""An event and, if it could not be decoded, why."""


@dataclass
class TrackStats:
    applied: int = 0
    duplicates: int = 0
    gaps: int = 0
    parked: int = 0
    waiting: int = 0
    """Of the parked: events that wait behind an earlier parked event of their stream."""
    lookups: int = 0
    """Store queries for rows or revisions a batch needed (a batch asks once for each)."""


class RevisionGap(Exception):
    """Seed §20: an aggregate's events must arrive in revision order, without holes."""


class _BatchRows:
    """The view as the batch sees it: the batch's own changes over the committed rows."""

    def __init__(self, track: ProjectionTrack, changes: ViewChanges) -> None:
        self._track = track
        self._changes = changes

    def get(self, key: str) -> Row | None:
        if key in self._changes.rows:
            return self._changes.rows[key]
        return self._track.committed_row(key)


class ProjectionTrack:
    def __init__(
        self,
        projection: Projection,
        store: ProjectionStore,
        retry: RetryPolicy,
        cache_size: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.projection = projection
        self.store = store
        self.retry = retry
        self.sleep = sleep
        self.stats = TrackStats()
        self.position = store.checkpoint(projection.id)
        """The checkpoint the next batch builds on: the last batch committed or in flight."""
        self.generation = store.generation(projection.id)
        """The retry generation the stored view is at (see `ProjectionBatch.generation`)."""
        self._blocked: dict[str, str] = {}
        """Streams known to have a parked event: the `stream@revision` their events wait on."""
        self.committed_position = self.position
        """The checkpoint the store holds (as far as this runner knows): what readers wait for."""
        fresh = self.position is None
        self.rows: BoundedCache[str, Row | None] = BoundedCache(cache_size, complete=fresh)
        self.revisions: BoundedCache[str, int] = BoundedCache(cache_size, complete=fresh)
        self._loaded_rows: dict[str, Row | None] = {}
        self._loaded_revisions: dict[str, int] = {}
        self._in_flight_rows: dict[str, Row | None] = {}
        self._in_flight_revisions: dict[str, int] = {}

    @property
    def id(self) -> str:
        return self.projection.id

    def reload(self) -> None:
        """Forget cached state after a failed or conflicting commit; read it again from the
        store (the caches are cleared first, so a failing store leaves nothing stale)."""
        self.rows.clear()
        self.revisions.clear()
        self._forget_loaded()
        self._in_flight_rows = {}
        self._in_flight_revisions = {}
        self._blocked = {}
        self.position = self.committed_position = self.store.checkpoint(self.id)
        self.generation = self.store.generation(self.id)

    @property
    def held(self) -> int:
        """Rows and stream revisions kept in memory: bounded by the cache and two batches (the
        one being built and the one being committed)."""
        return (
            len(self.rows)
            + len(self.revisions)
            + len(self._loaded_rows)
            + len(self._loaded_revisions)
            + len(self._in_flight_rows)
            + len(self._in_flight_revisions)
        )

    def prefetch(self, items: Sequence[Decoded]) -> None:
        """Load what building a batch of `items` reads and the cache lacks: the revisions of
        their streams and the rows `Projection.reads` names, one store query each."""
        self._forget_loaded()
        streams: dict[str, None] = {}
        keys: dict[str, None] = {}
        for event, undecodable in items:
            if self.position is not None and event.position <= self.position:
                continue
            if event.category not in self.projection.categories:
                continue
            streams[event.stream] = None
            if undecodable is None and event.type in self.projection.handles:
                keys.update(dict.fromkeys(self._reads(event)))
        if not self.revisions.complete:
            missing = [
                s for s in streams if s not in self.revisions and s not in self._in_flight_revisions
            ]
            if missing:
                self.stats.lookups += 1
                stored = self.store.load_revisions(self.id, missing)
                self._loaded_revisions = {s: stored.get(s, -1) for s in missing}
        if not self.rows.complete:
            wanted = [k for k in keys if k not in self.rows and k not in self._in_flight_rows]
            if wanted:
                self.stats.lookups += 1
                found = self.store.load_rows(self.id, wanted)
                self._loaded_rows = {k: found.get(k) for k in wanted}

    def _reads(self, event: ProjectedEvent) -> Sequence[str]:
        try:
            return self.projection.reads(event)
        except (UndecodableEvent, KeyError, TypeError, ValueError):
            return ()  # a malformed event: `apply` refuses it and it is parked

    def _forget_loaded(self) -> None:
        self._loaded_rows = {}
        self._loaded_revisions = {}

    def committed_row(self, key: str) -> Row | None:
        if key in self._in_flight_rows:
            return self._in_flight_rows[key]
        if key in self._loaded_rows:
            return self._loaded_rows[key]
        if key in self.rows:
            return self.rows.get(key)
        if self.rows.complete:
            return None
        self.stats.lookups += 1
        row = self.store.load_rows(self.id, [key]).get(key)
        self._loaded_rows[key] = row
        return row

    def committed_revision(self, stream: str) -> int:
        in_flight = self._in_flight_revisions.get(stream)
        if in_flight is not None:
            return in_flight
        loaded = self._loaded_revisions.get(stream)
        if loaded is not None:
            return loaded
        known = self.revisions.get(stream)
        if known is not None:
            return known
        if self.revisions.complete:
            return -1
        self.stats.lookups += 1
        revision = self.store.load_revisions(self.id, [stream]).get(stream, -1)
        self._loaded_revisions[stream] = revision
        return revision

    def new_batch(self) -> ProjectionBatch:
        start = -1 if self.position is None else self.position
        return ProjectionBatch(self.id, self.position, start, generation=self.generation)

    def add(self, batch: ProjectionBatch, item: Decoded, forced_reason: str | None = None) -> None:
        """Fold one event into `batch`; `forced_reason` parks it whatever it is."""
        event, undecodable = item
        if self.position is not None and event.position <= self.position:
            self.stats.duplicates += 1
            return
        batch.to_position = event.position
        if event.category not in self.projection.categories:
            return
        last = batch.stream_revisions.get(event.stream)
        last = self.committed_revision(event.stream) if last is None else last
        if event.revision <= last:
            self.stats.duplicates += 1
            return
        reason = self._out_of_order(batch, event, last) or forced_reason or undecodable
        if reason is None:
            reason = self._unknown(event) or self._apply_if_handled(batch, event)
        if reason is not None:
            self._park(batch, event, reason)
            return  # the stream's revision stays: its later events wait behind this one
        batch.stream_revisions[event.stream] = event.revision

    def advance(self, batch: ProjectionBatch, position: int) -> None:
        """The feed has looked at everything up to `position` (a checkpoint): the batch may
        move the view's checkpoint there."""
        if position > batch.to_position and (self.position is None or position > self.position):
            batch.to_position = position

    def _out_of_order(self, batch: ProjectionBatch, event: ProjectedEvent, last: int) -> str | None:
        """Why `event` may not be applied now (it is not the next revision), or None."""
        if event.revision == last + 1:
            return None
        first = self._first_parked(batch, event.stream)
        if first is not None:
            self.stats.waiting += 1
            return f"{WAITING_BEHIND}{first} {IN_ORDER}"
        self.stats.gaps += 1
        return f"revision gap in {event.stream}: expected {last + 1}, got {event.revision}"

    def _first_parked(self, batch: ProjectionBatch, stream: str) -> str | None:
        """The `stream@revision` of the event `stream` waits behind, if one is parked."""
        if stream in self._blocked:
            return self._blocked[stream]
        for parked in batch.parked:
            if parked.stream == stream:
                return f"{stream}@{parked.revision}"
        stored = self.store.first_parked(self.id, stream)
        if stored is None:
            return None
        self._blocked[stream] = f"{stream}@{stored.revision}"
        return self._blocked[stream]

    def _unknown(self, event: ProjectedEvent) -> str | None:
        """Nothing is skipped silently: a type the projection neither handles nor ignores."""
        if event.type in self.projection.handles or event.type in self.projection.ignores:
            return None
        return (
            f"unknown event type {event.type[:200]!r} in category {event.category!r}: "
            f"{self.projection.name} neither handles nor ignores it"
        )

    def _apply_if_handled(self, batch: ProjectionBatch, event: ProjectedEvent) -> str | None:
        return self._apply(batch, event) if event.type in self.projection.handles else None

    def _apply(self, batch: ProjectionBatch, event: ProjectedEvent) -> str | None:
        """Apply with retries; the reason it kept failing, or None once applied."""
        rows = _BatchRows(self, batch.changes)
        delays = self.retry.delays()
        while True:
            try:
                changes = self.projection.apply(event, rows)
            except ReadStoreUnavailable:  # looking up a row failed: the store's fault
                raise
            except Exception as error:  # a poison event: retried, then parked
                reason = f"{type(error).__name__}: {error}"
                delay = next(delays, None)
                if delay is None:
                    return reason
                self.sleep(delay)
                continue
            for change in changes:
                batch.changes.record(change)
            self.stats.applied += 1
            return None

    def _park(self, batch: ProjectionBatch, event: ProjectedEvent, reason: str) -> None:
        self.stats.parked += 1
        batch.parked.append(
            ParkedEvent(
                projection_id=self.id,
                position=event.position,
                event_id=event.event_id,
                stream=event.stream,
                revision=event.revision,
                event_type=event.type,
                reason=reason[:1000],
                attempts=0 if reason.startswith(WAITING_BEHIND) else self.retry.attempts,
            )
        )

    def _note_blocked(self, batch: ProjectionBatch) -> None:
        """The streams `batch` parks an event of: their later events wait behind it."""
        for parked in batch.parked:
            self._blocked.setdefault(parked.stream, f"{parked.stream}@{parked.revision}")

    def launched(self, batch: ProjectionBatch) -> None:
        """`batch` is being committed: the next batch builds on its checkpoint and its rows."""
        self.position = batch.to_position
        self._in_flight_rows = batch.changes.rows
        self._in_flight_revisions = batch.stream_revisions
        self._note_blocked(batch)

    def committed(self, batch: ProjectionBatch) -> None:
        """The store holds `batch`: move the checkpoint and keep its rows as committed state."""
        self.position = self.committed_position = batch.to_position
        for key, row in batch.changes.rows.items():
            self.rows.put(key, row)
        for stream, revision in batch.stream_revisions.items():
            self.revisions.put(stream, revision)
        self._note_blocked(batch)
        self._in_flight_rows = {}
        self._in_flight_revisions = {}
        self._forget_loaded()
