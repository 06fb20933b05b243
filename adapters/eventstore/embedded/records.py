"""Values the embedded store keeps and exchanges: proposed events, event records, stream state.

These are the server's own, in KurrentDB's terms, and named apart from the event store port's
(`domain.application.ports`: `RecordedEvent`, `WrongExpectedVersion`, `StreamNotFound`,
`NO_STREAM`, `ANY`): an outcome here is a value the writer returns, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Expected versions, in KurrentDB's own numbering (its .NET ExpectedVersion constants): the
# port's NO_STREAM / ANY / STREAM_EXISTS have the same numbers (the in-process adapter passes them).
EXPECT_NO_STREAM: Final = -1
EXPECT_ANY: Final = -2
EXPECT_STREAM_EXISTS: Final = -4

TOMBSTONE_REVISION: Final = 2**63 - 1
"""KurrentDB writes `$streamDeleted` at this revision when it tombstones a stream."""
DELETED_STREAM: Final = 2**63 - 1
"""The `$tb` a soft delete writes (KurrentDB's `EventNumber.DeletedStream`, the largest long):
a stream whose metadata says this is soft-deleted, whatever its events."""

FIRST_POSITION: Final = 128
"""Where `$all` starts: positions are byte-offset-like and never 0, so 0 can mean "none"."""


@dataclass(frozen=True, slots=True)
class ProposedEvent:
    event_id: str
    type: str
    content_type: str
    data: bytes
    metadata: bytes

    def size(self, stream: str) -> int:
        """Bytes this record takes in the log; positions advance by it."""
        return 64 + len(stream) + len(self.type) + len(self.data) + len(self.metadata)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as the log holds it (a row of the events table)."""

    position: int
    stream: str
    revision: int
    event_id: str
    type: str
    content_type: str
    data: bytes
    metadata: bytes
    created: int
    """.NET ticks (100 ns) since the Unix epoch, as KurrentDB reports `created`."""


@dataclass(frozen=True, slots=True)
class StreamState:
    """What the writer needs to know of a stream to check an expected version."""

    last_revision: int = -1
    """The last event's revision whatever `$tb` hides (KurrentDB's "last event number"): -1
    when the stream has no events."""
    truncate_before: int = 0
    tombstoned: bool = False
    has_metadata: bool = False
    """Whether metadata was ever written for it (its `$$` stream has events)."""

    @property
    def is_readable(self) -> bool:
        """A stream reads as found while it has events and is not deleted (events hidden by
        `$tb` leave it found but empty)."""
        return not self.tombstoned and self.last_revision >= 0 and not self.is_soft_deleted

    @property
    def is_soft_deleted(self) -> bool:
        return not self.tombstoned and self.truncate_before == DELETED_STREAM

    def at_revision(self, last_revision: int) -> StreamState:
        """This state with a new last revision: `dataclasses.replace` at a fraction of its cost
        (every append's path)."""
        return StreamState(last_revision, self.truncate_before, self.tombstoned, self.has_metadata)

    @property
    def current_version(self) -> int:
        """The version a wrong-expected-version error reports: the last revision, deleted or
        not, as KurrentDB reports it; -1 when the stream has no events."""
        return self.last_revision


@dataclass(frozen=True, slots=True)
class Appended:
    """Success: the last event's revision and `$all` position (the original ones when the
    append was an idempotent repeat)."""

    revision: int
    position: int


@dataclass(frozen=True, slots=True)
class WrongRevision:
    """Outcome: the stream was not at the expected version."""

    stream: str
    expected: int
    current: int
    """-1 when the stream does not exist."""


@dataclass(frozen=True, slots=True)
class StreamDeleted:
    stream: str


@dataclass(frozen=True, slots=True)
class NoSuchStream:
    """Outcome: the stream does not exist (a delete of nothing)."""

    stream: str


AppendOutcome = Appended | WrongRevision | StreamDeleted
DeleteOutcome = Appended | WrongRevision | StreamDeleted | NoSuchStream
