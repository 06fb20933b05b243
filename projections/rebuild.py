"""Blue/green rebuilds. A projection's new version gets its own tables and is built from the
start of `$all` while the active version keeps serving; once it has caught up it becomes the
active one in one transaction. Replays only write the new version's rows: projections have no
side effects, and the runner never writes to the event store.

Rule (caught up means caught up): a rebuild records `$all`'s head when it begins and switches
only once the new version's checkpoint has reached it — the feed's checkpoints carry it across
the events the view does not follow; a quiet feed never counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from caseledger.projections.ports import EventFeed, ProjectionStore
from caseledger.projections.projection import Projection
from caseledger.projections.runner import ProjectionRunner, RunnerSettings


class AlreadyActive(Exception):
    """Rebuilding the version that serves would replace rows while they are read."""


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
    """Make each projection's version the served one (called once the runner has caught up)."""
    for projection in projections:
        store.activate(projection.name, projection.version)


def rebuild(
    feed: EventFeed,
    store: ProjectionStore,
    projection: Projection,
    *,
    settings: RunnerSettings | None = None,
    on_progress: Callable[[RebuildProgress], None] = lambda _: None,
    on_switch: Callable[[], None] = lambda: None,
    poll: float = 0.2,
) -> int:
    """Build `projection` beside the active version up to the head of `$all`, then switch to it
    (`on_switch` is told first: the switch builds the version's secondary indexes over all its
    rows, which takes a while on a large view). Returns the number of events read. Refuses to
    rebuild the version already serving."""
    served = [s for s in store.states() if s.name == projection.name and s.active]
    if served and served[0].version == projection.version:
        raise AlreadyActive(
            f"{projection.id} is already serving; give the projection a new version to rebuild "
            "it beside the old one"
        )
    runner = ProjectionRunner(feed, store, [projection], settings or RunnerSettings())
    start = runner.status().positions[projection.id]
    target = feed.head_position()
    runner.start()
    try:
        while True:
            position = runner.status().positions[projection.id]
            reached = (position if position is not None else 0) >= target
            if not reached:
                runner.wait_until(target, poll)
            on_progress(RebuildProgress(runner.events_seen, position, start or 0, target))
            if reached:  # progress is reported at least once, the last time complete
                break
    finally:
        runner.stop()
    on_switch()
    store.activate(projection.name, projection.version)
    return runner.events_seen
