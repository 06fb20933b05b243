"""The ports the read side needs: a feed of events, a store that applies a batch of view
changes together with its checkpoint, and a reader for queries. Adapters implement them
(`caseledger.adapters.readstore.sqlite` / `.postgres`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeAlias, runtime_checkable

from caseledger.domain.application.ports import RecordedEvent, Subscription
from caseledger.projections.projection import Projection, storage_id
from caseledger.projections.rows import Row, Scalar, ViewChanges


@dataclass(frozen=True)
class Checkpoint:
    """The feed has looked at everything in `$all` up to `position`, the events it filtered
    out included (KurrentDB's checkpoint and caught-up messages): a view may record it as its
    checkpoint, so a long run of events it does not follow still moves it forward."""

    position: int


FeedSubscription: TypeAlias = Subscription[RecordedEvent | Checkpoint]
"""Events in `$all` order, with checkpoints between them."""


@runtime_checkable
class PagedSubscription(Subscription[RecordedEvent | Checkpoint], Protocol):
    """A subscription that can also hand over what it reads a page at a time (the in-process
    feed: a page is one query of storage), so its reader passes each page on in one go."""

    def pages(self) -> Iterator[Sequence[RecordedEvent | Checkpoint]]:
        """The same items as iterating, in the same order, grouped; a page may be empty."""
        ...


class EventFeed(Protocol):
    """What the runner reads: `$all` filtered to categories, with the server's checkpoints."""

    def follow_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> FeedSubscription:
        """Events after `from_position` (exclusive; None = the start) in streams named
        `<category>-...`, then live ones, and `Checkpoint`s as the server sends them."""
        ...

    def head_position(self, categories: Sequence[str] = ()) -> int: ...

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]: ...


class ReadStoreUnavailable(Exception):
    """The read store itself failed, not one event: it cannot be reached or lost the
    connection, is shutting down, out of resources, locked, full, or failed I/O, or aborted a
    transaction for a serialization failure or deadlock. Transient: the runner never parks an
    event for it; it stalls, retries with capped backoff and resumes where it stopped."""


WAITING_BEHIND: Final = "waiting behind "
"""How a parked event that waits for an earlier parked event of its stream is marked:
`waiting behind <stream>@<revision> (parked first; retried in revision order)`."""
IN_ORDER: Final = "(parked first; retried in revision order)"


@dataclass(frozen=True)
class ParkedEvent:
    """An event a projection could not apply (or that waits behind one of its stream that it
    could not apply): visible and retryable. The checkpoint moved past it; the view lacks its
    effect, and the effect of every later event of its stream, until it is retried."""

    projection_id: str
    position: int
    event_id: str
    stream: str
    revision: int
    event_type: str
    reason: str
    attempts: int

    @property
    def waiting_on(self) -> str | None:
        """The `stream@revision` of the parked event this one waits behind, if it waits."""
        if not self.reason.startswith(WAITING_BEHIND):
            return None
        return self.reason.removeprefix(WAITING_BEHIND).split(" ", 1)[0]


@dataclass
class ProjectionBatch:
    """One projection's share of a commit. `from_position` is the checkpoint the batch was
    built on (None: nothing applied yet); the store refuses the batch if the stored
    checkpoint differs (`CheckpointConflict`), so a replay or a second runner cannot apply an
    event twice."""

    projection_id: str
    from_position: int | None
    to_position: int
    changes: ViewChanges = field(default_factory=ViewChanges)
    stream_revisions: dict[str, int] = field(default_factory=dict)
    parked: list[ParkedEvent] = field(default_factory=list)
    generation: int = 0
    """The view's retry generation the batch was built on: a retry of parked events changes
    rows and revisions behind the runner's back, so it moves the generation, and a batch built
    before it is refused as a `CheckpointConflict` (the runner reloads and builds it again)."""


class CheckpointConflict(Exception):
    """The stored checkpoint is not where the batch started: someone else committed first."""

    def __init__(self, projection_id: str, expected: int | None, actual: int | None) -> None:
        super().__init__(
            f"{projection_id}: checkpoint is {actual}, batch built on {expected} "
            "(or a retry of parked events changed the view since)"
        )
        self.projection_id = projection_id


@dataclass(frozen=True)
class ProjectionState:
    """A projection version's place: checkpoint, parked events, and whether it serves."""

    name: str
    version: int
    position: int | None
    parked: int
    active: bool
    generation: int = 1
    """The build generation (1: the version's first build; see `Projection.generation`)."""

    @property
    def projection_id(self) -> str:
        return storage_id(self.name, self.version, self.generation)


class ProjectionStore(Protocol):
    """Where views live. `commit` applies row changes, stream revisions, parked events and
    checkpoints of several projections in **one transaction**, or nothing."""

    commits_off_the_interpreter: bool
    """True if a commit is mostly work outside this interpreter (a database server's), so a
    runner gains by building the next batch while it runs (`RunnerSettings.overlap_commits`)."""

    def prepare(self, projection: Projection) -> None:
        """Create the projection version's tables (its migration) if missing; idempotent."""
        ...

    def checkpoint(self, projection_id: str) -> int | None: ...

    def generation(self, projection_id: str) -> int:
        """How many retries of parked events have changed the view (see `ProjectionBatch`)."""
        ...

    def first_parked(self, projection_id: str, stream: str) -> ParkedEvent | None:
        """The parked event of `stream` with the lowest revision, if any."""
        ...

    def load_rows(self, projection_id: str, keys: Sequence[str]) -> dict[str, Row]: ...

    def load_revisions(self, projection_id: str, streams: Sequence[str]) -> dict[str, int]: ...

    def commit(self, batches: Sequence[ProjectionBatch]) -> None: ...

    def parked(self, projection_id: str) -> list[ParkedEvent]: ...

    def resolve_parked(
        self,
        projection_id: str,
        position: int | None,
        changes: ViewChanges,
        revisions: dict[str, int],
        resolved: Sequence[str],
        still_parked: Sequence[ParkedEvent] = (),
    ) -> None:
        """In one transaction, if the checkpoint is still `position` (else CheckpointConflict):
        apply the retried events' changes and stream revisions, drop the `resolved` event ids
        from the parked list, update `still_parked`, and move the view's generation."""
        ...

    def activate(self, name: str, version: int) -> None:
        """Serve `version` of view `name` from now on (atomic switch; blue/green)."""
        ...

    def states(self) -> list[ProjectionState]: ...

    def serving_generation(self, name: str, version: int) -> int | None:
        """The build generation of `version` that serves view `name` (None: another version
        serves, or none)."""
        ...

    def reset(self, projection_id: str) -> None:
        """Empty a version's generation that does not serve (its rows, revisions and parked
        events; checkpoint back to nothing) to build it again from the start."""
        ...

    def switch(self, projection_id: str) -> bool:
        """Serve `projection_id` (a generation of the version that serves its view) instead,
        in one transaction, if its checkpoint has reached the serving generation's; the one
        it replaces is retired (its retry generation moves, so a runner's batch built on it is
        refused and the runner follows the switch). False, and nothing changed, if it is
        behind (build further and try again)."""
        ...


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_offset: int | None


@dataclass(frozen=True)
class SearchHit:
    row: Row
    score: float


class ViewReader(Protocol):
    """Read-only access to the **active** version of each view, always tenant-scoped: another
    tenant's row is never returned."""

    def active_version(self, name: str) -> int | None: ...

    def as_of(self, name: str) -> int | None:
        """The active version's checkpoint: the `$all` position its rows reflect."""
        ...

    def get(self, name: str, tenant_id: str, key: str) -> Row | None: ...

    def find(
        self,
        name: str,
        tenant_id: str,
        equals: Mapping[str, Scalar],
        limit: int,
        offset: int = 0,
    ) -> Page:
        """Rows whose columns equal `equals`, newest change first."""
        ...

    def search(self, name: str, tenant_id: str, text: str, limit: int) -> list[SearchHit]:
        """Full-text search over approved evidence, best first."""
        ...
