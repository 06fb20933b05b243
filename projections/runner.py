"""The projection runner: a catch-up subscription to `$all` (filtered to the read side's
categories) that keeps views up to date, then follows live.

Contracts:
- Exactly-once effect: a batch's row changes, stream revisions, parked events and checkpoints
  are committed in one transaction, built on the stored checkpoint; a replayed or duplicated
  event is skipped, and a batch built on a stale checkpoint is refused and rebuilt.
- Never a silent skip: an event that cannot be applied is retried with backoff, then parked
  (visible in `status`, retryable), and the later events of its stream park behind it (see
  `track`). A commit that keeps failing is retried event by event, so only the event that
  breaks it is parked.
- Transient is not poison: a failure of the read store itself (`ReadStoreUnavailable`) never
  parks anything. The runner stops consuming, reports itself `stalled` with the reason, retries
  the same batch with capped backoff (at most `stall_max_delay`, 5 s) for as long as it takes,
  and resumes exactly where it stopped.
- Caught up means caught up: the runner records `$all`'s head when it subscribes and is caught
  up once every view's checkpoint has reached it. The feed's checkpoints move a view's
  checkpoint across events it does not follow; silence never counts.
- Graceful shutdown: `stop()` lets the batch in hand commit, then ends the subscription.
- While catching up into a store whose commits are mostly another process's work (PostgreSQL:
  `commits_off_the_interpreter`), a batch's commit overlaps with building the next
  (`overlap_commits`, the engine's option): the store works in a second thread (psycopg
  releases the interpreter lock while the server works) and the next batch is built on top of
  it; readers see a batch only once it is committed. Live batches are committed one at a time.
- The fault rules (retries, rebuild on a conflict, stall, isolate and park) are the engine's
  (`transactions`): the runner builds a batch for every view, commits it, and keeps what the
  store holds.
- `wait_until(position)` blocks until the views reflect the `$all` position (read-your-writes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.events import CATEGORIES, UndecodableEvent, decode, undecoded
from caseledger.projections.parking import RetryReport, retry_parked
from caseledger.projections.ports import (
    EventFeed,
    ProjectionBatch,
    ProjectionStore,
    ReadStoreUnavailable,
)
from caseledger.projections.projection import Projection
from caseledger.projections.read_ahead import ReadAhead
from caseledger.projections.retry import RetryPolicy
from caseledger.projections.subscription import CheckpointedSubscription, SubscriptionOptions
from caseledger.projections.track import Decoded, ProjectionTrack, TrackStats
from caseledger.projections.transactions import Transactional

log = logging.getLogger(__name__)

STALLED: Final = "stalled"
"""The runner's state while the read store fails: nothing is consumed until it answers."""


@dataclass(frozen=True)
class RunnerSettings:
    batch_size: int = 1000
    """Events per transaction at most; fewer when the feed goes quiet (live mode)."""
    queue_size: int = 4_000
    """Events read ahead of the projections (bounds memory; a batch or two is enough)."""
    cache_size: int = 1_000
    """Rows and stream revisions kept per projection between batches (bounds memory). Small on
    purpose: a batch loads what it reads in one query per view, so the cache only saves that
    query in live mode, where the same few streams keep changing."""
    catch_up_linger: float = 0.25
    """While catching up, how long a batch may wait for more events to fill it: a batch costs
    a transaction and a lookup per view whatever its size, so taking only what happens to be
    read ahead makes catch-up pay that cost every few dozen events. Once caught up, batches
    are paced by `live_interval` instead."""
    live_interval: float = 0.002
    """Once caught up, the least time between two batches closing. An event that arrives after
    a quiet spell is committed at once; one that arrives within this interval of the last
    batch's close waits for the rest of it, and the batch takes every event that arrived
    meanwhile. So under a steady stream of commands the runner commits at most once per
    interval (its transaction and its lookup per view, paid for many events rather than for
    each one, and the interpreter lock held less), at a cost of at most this much live lag."""
    overlap_commits: bool = True
    """While catching up, build the next batch while the store commits the last one — if the
    store's commits are mostly work outside this interpreter (`commits_off_the_interpreter`);
    SQLite's are this process's own CPU, so its commits are never overlapped."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stall_max_delay: float = 5.0
    """The longest pause between two tries while the read store fails (at most 5 s, whatever
    this says: `stall.MAX_DELAY`)."""


Pending = list[tuple[ProjectionTrack, ProjectionBatch]]
"""A commit's batches, each with the track that built it."""


@dataclass(frozen=True)
class RunnerStatus:
    state: str
    positions: dict[str, int | None]
    stats: dict[str, TrackStats]
    last_error: str | None
    caught_up: bool
    held: dict[str, int] = field(default_factory=dict)
    """Rows and stream revisions each projection keeps in memory (bounded, see `cache_size`)."""
    stalled_reason: str | None = None
    """While `state` is `stalled`: why the read store failed (the last failure)."""
    stalled_since: float | None = None
    """While stalled: when it began (`time.time()`)."""
    target: int | None = None
    """`$all`'s head when the runner subscribed: caught up once every checkpoint reached it."""

    @property
    def stalled(self) -> bool:
        return self.state == STALLED


class ProjectionRunner(Transactional[Decoded, Pending]):
    def __init__(
        self,
        feed: EventFeed,
        store: ProjectionStore,
        projections: Sequence[Projection],
        settings: RunnerSettings | None = None,
        *,
        categories: Sequence[str] = CATEGORIES,
        sleep: Callable[[float], None] = time.sleep,
        on_caught_up: Callable[[], None] | None = None,
        on_state: Callable[[RunnerStatus], None] | None = None,
        follow_switches: bool = True,
    ) -> None:
        """`on_state` is told the status whenever the runner starts, stalls (and each failed
        try while stalled), resumes or stops: e.g. to show it to other processes.

        `follow_switches`: each projection is kept at the build generation of its version
        that serves (a rebuild in place switches to a new one; the runner's next batch on the
        old one is refused, and it follows from the new one's checkpoint without a restart).
        A rebuild's own runner, building a generation that does not serve yet, says False."""
        if not projections:
            raise ValueError("a runner needs at least one projection")
        self._feed = feed
        self._store = store
        settings = settings or RunnerSettings()
        self._settings = settings
        self._categories = tuple(categories)
        self._sleep = sleep
        self._on_caught_up = on_caught_up
        self._on_state = on_state
        self._follow_switches = follow_switches
        for projection in projections:
            store.prepare(projection)
        if follow_switches:
            projections = [self._served(p) for p in projections]
            for projection in projections:
                store.prepare(projection)
        self._tracks = [
            ProjectionTrack(p, store, settings.retry, settings.cache_size, sleep)
            for p in projections
        ]
        self._engine = CheckpointedSubscription(
            lambda start: feed.follow_all(start, self._categories),
            feed.head_position,
            self,
            SubscriptionOptions(
                batch_size=settings.batch_size,
                read_ahead=settings.queue_size,
                catch_up_linger=settings.catch_up_linger,
                live_interval=settings.live_interval,
                retry=settings.retry,
                stall_max_delay=settings.stall_max_delay,
                overlap_commits=settings.overlap_commits and store.commits_off_the_interpreter,
            ),
            name="projection-runner",
            sleep=sleep,
            on_failure=lambda error: self._fail(f"subscription failed: {error!r}"),
            on_state=self._report,
            on_caught_up=on_caught_up,
        )
        self._progress = threading.Condition()
        self._last_error: str | None = None
        self.events_seen = 0
        self._retry_requested = threading.Event()
        self.retry_reports: dict[str, RetryReport] = {}

    @property
    def _read_ahead(self) -> ReadAhead:
        return self._engine.read_ahead

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        self._engine.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit the batch in hand, end the subscription, join the thread."""
        self._engine.stop(timeout)

    def run(self) -> None:
        """Follow the feed until stopped; resubscribe (with backoff) when the feed fails."""
        self._engine.run()

    def run_until_caught_up(self, timeout: float | None = None) -> bool:
        """Run in the background until caught up (or `timeout`), then stop; True if caught up."""
        self.start()
        reached = self._engine.caught_up.wait(timeout)
        self.stop()
        return reached

    def request_retry(self) -> None:
        """Retry the parked events of every projection between two batches."""
        self._retry_requested.set()

    # -- read-your-writes -----------------------------------------------------------------

    def wait_until(self, position: int, timeout: float, projection_ids: Sequence[str] = ()) -> bool:
        """True once every (or every named) projection's checkpoint is at or past `position`;
        False after `timeout` seconds."""
        tracks = [
            t
            for t in self._tracks
            if not projection_ids
            or t.id in projection_ids
            or t.projection.base_id in projection_ids
        ]

        def reached() -> bool:
            return all(
                t.committed_position is not None and t.committed_position >= position
                for t in tracks
            )

        with self._progress:
            return self._progress.wait_for(reached, timeout)

    def wait_for_progress(self, timeout: float) -> None:
        """Return once a batch of any view is committed here, or after `timeout` seconds: the
        sleep of a waiter that reads checkpoints (`PollingWaiter`), woken by the commit it
        waits for rather than by its next poll."""
        with self._progress:
            self._progress.wait(timeout)

    def status(self) -> RunnerStatus:
        engine = self._engine
        stalled = engine.stall.stalled and engine.state == "running"
        return RunnerStatus(
            state=STALLED if stalled else engine.state,
            positions={t.id: t.committed_position for t in self._tracks},
            stats={t.id: t.stats for t in self._tracks},
            last_error=self._last_error,
            caught_up=engine.caught_up.is_set(),
            held={t.id: t.held for t in self._tracks},
            stalled_reason=engine.stall.reason if stalled else None,
            stalled_since=engine.stall.since if stalled else None,
            target=engine.target,
        )

    # -- the engine's handler: build, commit, keep ----------------------------------------

    def resume_from(self) -> int | None:
        """The least checkpoint of the views (None while one has none)."""
        positions = [t.committed_position for t in self._tracks]
        if any(p is None for p in positions):
            return None
        return min(p for p in positions if p is not None)

    def between(self) -> None:
        if self._retry_requested.is_set():
            self._retry_parked()

    def reached(self, target: int) -> bool:
        """Every view's committed checkpoint is at or past `target` (an empty `$all`: 0)."""
        return all(
            (t.committed_position if t.committed_position is not None else 0) >= target
            for t in self._tracks
        )

    def _retry_parked(self) -> None:
        self._retry_requested.clear()
        self._engine.settle()
        for track in self._tracks:
            try:
                self.retry_reports[track.id] = retry_parked(
                    self._feed, self._store, track.projection
                )
            except Exception as error:  # the store or feed failed: the parked events stay parked
                self._fail(f"retrying parked events of {track.id}: {error!r}")
            self.reload()

    def items(self, events: Sequence[RecordedEvent]) -> list[Decoded]:
        self.events_seen += len(events)
        return [_decode(r) for r in events]

    def build(self, items: Sequence[Decoded], checkpoint: int | None, park: str | None) -> Pending:
        """Every view's batch of `items` (those that move its checkpoint)."""
        pending: Pending = []
        for track in self._tracks:
            track.prefetch(items)
            batch = track.new_batch()
            for item in items:
                track.add(batch, item, park)
            if checkpoint is not None:
                track.advance(batch, checkpoint)
            if batch.to_position > (-1 if batch.from_position is None else batch.from_position):
                pending.append((track, batch))
        return pending

    def commit(self, work: Pending) -> None:
        self._store.commit([batch for _, batch in work])

    def launched(self, work: Pending) -> None:
        for track, batch in work:
            track.launched(batch)

    def published(self, work: Pending) -> None:
        """In the committer thread, as soon as the store holds the batch: wake the readers."""
        with self._progress:
            for track, batch in work:
                track.committed_position = batch.to_position
            self._progress.notify_all()

    def committed(self, work: Pending) -> None:
        with self._progress:
            for track, batch in work:
                track.committed(batch)
            self._progress.notify_all()

    def describe(self, item: Decoded) -> str:
        event, _ = item
        return event.ref

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def failed(self, message: str) -> None:
        self._fail(message)

    def stalling(self, reason: str, began: bool) -> None:
        if began:
            log.warning("projection runner stalled: %s", reason)
        self._last_error = f"read store unavailable: {reason}"

    def resumed(self, reason: str) -> None:
        log.warning("projection runner resumed after: %s", reason)

    def _report(self) -> None:
        if self._on_state is None:
            return
        try:
            self._on_state(self.status())
        except Exception as error:  # reporting must never stop the runner
            log.warning("reporting the runner's state failed: %r", error)

    def _served(self, projection: Projection) -> Projection:
        served = self._store.serving_generation(projection.name, projection.version)
        if served is None or served == projection.generation:
            return projection
        return projection.at_generation(served)

    def _follow_switch(self) -> None:
        """Replace the track of a projection whose serving build generation changed (a
        rebuild in place switched) by one on the generation that serves now."""
        for index, track in enumerate(self._tracks):
            projection = self._served(track.projection)
            if projection is track.projection:
                continue
            log.warning("projection runner: %s switched to %s", track.id, projection.id)
            self._store.prepare(projection)
            self._tracks[index] = ProjectionTrack(
                projection,
                self._store,
                self._settings.retry,
                self._settings.cache_size,
                self._sleep,
            )

    def reload(self) -> None:
        if self._follow_switches:
            try:
                self._follow_switch()
            except ReadStoreUnavailable:  # stalled (and said so): the next try looks again
                pass
            except Exception as error:  # the next commit attempt retries
                self._fail(f"following a switch failed: {type(error).__name__}: {error}")
        for track in self._tracks:
            try:
                track.reload()
            except ReadStoreUnavailable:  # stalled (and said so): the next try reloads
                continue
            except Exception as error:  # the next commit attempt retries
                self._fail(f"reload failed: {type(error).__name__}: {error}")

    def _fail(self, message: str) -> None:
        self._last_error = message
        log.warning("projection runner: %s", message)


def _decode(recorded: RecordedEvent) -> Decoded:
    try:
        return decode(recorded), None
    except UndecodableEvent as error:
        return undecoded(recorded), str(error)
