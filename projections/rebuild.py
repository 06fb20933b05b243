"""Blue/green rebuilds. A projection's new version gets its own tables and is built from the
start of `$all` while the active version keeps serving; once it has caught up it becomes the
active one in one transaction. Replays only write the new version's rows: projections have no
side effects, and the runner never writes to the event store.

Rule (caught up means caught up): a rebuild records `$all`'s head when it begins and switches
only once the new version's checkpoint has reached it — the feed's checkpoints carry it across
the events the view does not follow; a quiet feed never counts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from caseledger.projections.ports import EventFeed, ProjectionStore
from caseledger.projections.projection import Projection
from caseledger.projections.runner import ProjectionRunner, RunnerSettings


class NotSwitched(Exception):
    """The rebuild stopped before its generation could serve (stopped, or never caught up)."""


@dataclass(frozen=True)
class RebuildProgress:
    events: int
    position: int | None
    start: int
    target: int


def activate_unserved(store: ProjectionStore, projections: Sequence[Projection]) -> None:
    """A view nobody serves yet is served by its current version at once (its freshness says
    how far it has got); views with an older active version keep it until `switch_when_built`."""
    active = {s.name for s in store.states() if s.active}
    for projection in projections:
        if projection.name not in active:
            store.activate(projection.name, projection.version)


def switch_when_built(store: ProjectionStore, projections: Sequence[Projection]) -> None:
    """Make each projection's version the served one (called once the runner has caught up);
    a version that already serves keeps the build generation that serves."""
    for projection in projections:
        if store.serving_generation(projection.name, projection.version) is None:
            store.activate(projection.name, projection.version)


def next_build(store: ProjectionStore, projection: Projection) -> Projection:
    """What a rebuild of `projection` builds: its version's next build generation beside the
    one serving (emptied first if an earlier rebuild was interrupted there), or, when another
    version serves, this version's first build (blue/green; resumed where it stopped)."""
    served = store.serving_generation(projection.name, projection.version)
    if served is None:
        return projection.at_generation(1)
    building = projection.at_generation(served + 1)
    store.prepare(building)
    store.reset(building.id)
    return building


def rebuild(
    feed: EventFeed,
    store: ProjectionStore,
    projection: Projection,
    *,
    settings: RunnerSettings | None = None,
    on_progress: Callable[[RebuildProgress], None] = lambda _: None,
    on_switch: Callable[[], None] = lambda: None,
    poll: float = 0.2,
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[Projection, int]:
    """Build `projection` from the start of `$all` beside the generation that serves (see
    `next_build`) up to `$all`'s head taken now, then switch to it (`on_switch` is told
    first: the switch builds the secondary indexes over all its rows). The switch waits until
    the new generation's checkpoint has also reached the serving one's (a runner keeps that
    one going meanwhile), so the runner that follows the switch misses nothing. Returns what
    was built and the number of events read; NotSwitched if `stopping()` said so first (the
    serving generation keeps serving)."""
    building = next_build(store, projection)
    runner = ProjectionRunner(
        feed, store, [building], settings or RunnerSettings(), follow_switches=False
    )
    start = runner.status().positions[building.id]
    target = feed.head_position()
    runner.start()
    try:
        while True:
            if stopping():
                raise NotSwitched(f"{building.id}: stopped before it caught up")
            position = runner.status().positions[building.id]
            reached = (position if position is not None else 0) >= target
            if not reached:
                runner.wait_until(target, poll)
            on_progress(RebuildProgress(runner.events_seen, position, start or 0, target))
            if reached:  # progress is reported at least once, the last time complete
                break
        on_switch()
        while not store.switch(building.id):  # the serving generation is ahead: catch it up
            if stopping():
                raise NotSwitched(f"{building.id}: stopped before it caught up")
            time.sleep(poll)
    finally:
        runner.stop()
    return building, runner.events_seen
