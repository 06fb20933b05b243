"""The ports the read side needs: a feed of events, a store that applies a batch of view
changes together with its checkpoint, and a reader for queries. Adapters implement them
(`caseledger.adapters.readstore.sqlite` / `.postgres`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.projection import Projection
from caseledger.projections.rows import Row, Scalar, ViewChanges


class Subscription(Protocol):
    def __iter__(self) -> Iterator[RecordedEvent]: ...

    def stop(self) -> None: ...


class EventFeed(Protocol):
    """What the runner reads: `$all` filtered to categories (the EventStore port has it)."""

    def subscribe_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> Subscription: ...

    def head_position(self, categories: Sequence[str] = ()) -> int: ...

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]: ...


@dataclass(frozen=True)
class ParkedEvent:
    """An event a projection could not apply after its retries: visible and retryable. The
    checkpoint moved past it; the view lacks its effect until it is retried."""

    projection_id: str
    position: int
    event_id: str
    stream: str
    revision: int
    event_type: str
    reason: str
    attempts: int


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


class CheckpointConflict(Exception):
    """The stored checkpoint is not where the batch started: someone else committed first."""

    def __init__(self, projection_id: str, expected: int | None, actual: int | None) -> None:
        super().__init__(f"{projection_id}: checkpoint is {actual}, batch built on {expected}")
        self.projection_id = projection_id


@dataclass(frozen=True)
class ProjectionState:
    """A projection version's place: checkpoint, parked events, and whether it serves."""

    name: str
    version: int
    position: int | None
    parked: int
    active: bool

    @property
    def projection_id(self) -> str:
        return f"{self.name}_v{self.version}"


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

    def load_rows(self, projection_id: str, keys: Sequence[str]) -> dict[str, Row]: ...

    def load_revisions(self, projection_id: str, streams: Sequence[str]) -> dict[str, int]: ...

    def commit(self, batches: Sequence[ProjectionBatch]) -> None: ...

    def parked(self, projection_id: str) -> list[ParkedEvent]: ...

    def resolve_parked(
        self, projection_id: str, event_id: str, changes: ViewChanges, revisions: dict[str, int]
    ) -> None:
        """Apply a retried parked event's changes and drop it from the parked list, at once."""
        ...

    def activate(self, name: str, version: int) -> None:
        """Serve `version` of view `name` from now on (atomic switch; blue/green)."""
        ...

    def states(self) -> list[ProjectionState]: ...


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
