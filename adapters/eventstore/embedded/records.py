"""Values the embedded store keeps and exchanges: proposed events, stored events, stream state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Expected versions, in KurrentDB's own numbering (its .NET ExpectedVersion constants).
NO_STREAM: Final = -1
ANY: Final = -2
STREAM_EXISTS: Final = -4

TOMBSTONE_REVISION: Final = 2**63 - 1
"""KurrentDB writes `$streamDeleted` at this revision when it tombstones a stream."""

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
class StoredEvent:
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
    truncate_before: int = 0
    tombstoned: bool = False

    @property
    def is_readable(self) -> bool:
        """A stream reads as found while it has events at or after its `$tb`."""
        return not self.tombstoned and self.last_revision >= max(self.truncate_before, 0)

    @property
    def is_soft_deleted(self) -> bool:
        return not self.tombstoned and 0 <= self.last_revision < self.truncate_before

    def at_revision(self, last_revision: int) -> StreamState:
        """This state with a new last revision: `dataclasses.replace` at a fraction of its cost
        (every append's path)."""
        return StreamState(last_revision, self.truncate_before, self.tombstoned)

    @property
    def current_version(self) -> int:
        """The version a wrong-expected-version error reports: -1 when there is no stream."""
        return self.last_revision if self.is_readable else NO_STREAM


@dataclass(frozen=True, slots=True)
class Appended:
    """Success: the last event's revision and `$all` position (the original ones when the
    append was an idempotent repeat)."""

    revision: int
    position: int


@dataclass(frozen=True, slots=True)
class WrongExpectedVersion:
    stream: str
    expected: int
    current: int
    """-1 when the stream does not exist."""


@dataclass(frozen=True, slots=True)
class StreamDeleted:
    stream: str


@dataclass(frozen=True, slots=True)
class StreamNotFound:
    stream: str


AppendOutcome = Appended | WrongExpectedVersion | StreamDeleted
DeleteOutcome = Appended | WrongExpectedVersion | StreamDeleted | StreamNotFound
